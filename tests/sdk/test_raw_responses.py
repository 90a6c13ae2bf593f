"""``with_raw_response``, request ids in errors, downloads streamed to a file and the
SDK's log (``OCRCHAT_LOG``): ``Client`` against the real app in process, ``AsyncClient``
and a subprocess against a real uvicorn server."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pypdfium2
import pytest

import ocrchat
from tests.conftest import Live, Server
from tests.documents import image_bytes, numbered_pdf
from tests.sdk.test_client import PAGE, sdk

REQUEST_ID = re.compile(r"req_[0-9a-f]{32}")


def test_every_call_answers_its_raw_response(server: Server) -> None:
    client = sdk(server)
    raw = client.with_raw_response

    submitted = raw.submit(image_bytes(PAGE, "PNG"), tier="cpu", language="eng")
    assert isinstance(submitted, ocrchat.APIResponse)
    assert submitted.status_code == 200
    assert submitted.headers["content-type"] == "application/json"
    assert isinstance(submitted.http_response, httpx.Response)
    assert submitted.request_id == submitted.http_response.headers["X-Request-ID"]
    job = submitted.parse()
    assert job.status is ocrchat.JobStatus.DONE
    assert submitted.parse() is job  # parsed once

    got = raw.get(job)
    assert got.parse() == job
    text = raw.download(job, "txt")
    assert text.headers["content-type"].startswith("text/plain")
    assert 'filename="document.txt"' in text.headers["content-disposition"]
    assert text.parse() == text.http_response.content == client.download(job, "txt")
    assert raw.account().parse().name == "alice"
    assert {tool.slug for tool in raw.tools().parse().tools} >= {"translate"}
    assert raw.engines().parse().engines[0].tier is ocrchat.Tier.CPU
    reply = raw.chat(job, "What is the total amount due?")
    assert "215" in reply.parse().message.content
    assert raw.history(job).parse().conversations[0].conversation == reply.parse().conversation
    deleted = raw.delete(job)
    assert deleted.status_code == 200
    assert deleted.parse().deleted

    answers: list[ocrchat.APIResponse[Any]] = [submitted, got, text, reply, deleted]
    ids = [answer.request_id for answer in answers]
    assert all(found is not None and REQUEST_ID.fullmatch(found) for found in ids)
    assert len(set(ids)) == len(ids)


def test_an_error_names_the_request_the_server_logged(server: Server) -> None:
    client = sdk(server)
    for call in (lambda: client.get("no-such-job"), lambda: client.with_raw_response.get("nope")):
        with pytest.raises(ocrchat.NotFoundError) as caught:
            call()
        error = caught.value
        assert error.request_id is not None
        assert REQUEST_ID.fullmatch(error.request_id)
        assert error.request_id == error.response.headers["X-Request-ID"]
        assert error.request_id == error.body.request_id
        assert str(error).endswith(f"(request id {error.request_id})")
    with pytest.raises(ocrchat.BadRequestError) as bad:
        client.submit(b"not a document")
    assert bad.value.request_id == bad.value.response.headers["X-Request-ID"]


def test_a_pdf_downloads_to_a_path(server: Server, tmp_path: Path) -> None:
    client = sdk(server)
    job = client.submit(numbered_pdf(2), language="eng")
    folder = tmp_path / "downloads"  # beside the server's data
    folder.mkdir()
    target = folder / "report.pdf"
    target.write_bytes(b"an older file, replaced whole")

    saved = client.download(job, "pdf", target)

    assert saved == target
    assert target.read_bytes().startswith(b"%PDF")
    assert target.read_bytes() == client.download(job, "pdf")
    assert len(pypdfium2.PdfDocument(target)) == 2
    assert sorted(folder.iterdir()) == [target]  # no temporary file left beside it
    # streamed into the file, not read into the response
    raw = client.with_raw_response.download(job.uuid, "pdf", str(folder / "again.pdf"))
    assert raw.parse() == folder / "again.pdf"
    with pytest.raises(httpx.ResponseNotRead):
        _ = raw.http_response.content
    # an error answer never touches the path
    with pytest.raises(ocrchat.NotFoundError):
        client.download("no-such-job", "pdf", folder / "missing.pdf")
    assert sorted(folder.iterdir()) == [folder / "again.pdf", target]


class BreaksMidway(httpx.SyncByteStream):
    """A body that stops after its first chunk, as a dropped connection does."""

    def __iter__(self) -> Iterator[bytes]:
        yield b"%PDF-1.7 the first part"
        raise httpx.ReadError("connection reset by peer")


def test_a_download_cut_off_leaves_no_partial_file(tmp_path: Path) -> None:
    """httpx's MockTransport stands in for a connection that drops mid-body."""
    whole = b"%PDF-1.7 the whole file"
    answers = [httpx.Response(200, stream=BreaksMidway()), httpx.Response(200, content=whole)]
    transport = httpx.MockTransport(lambda request: answers.pop(0))
    target = tmp_path / "scan.pdf"
    with ocrchat.Client(
        "ocr_t", base_url="http://ocr.test", http_client=httpx.Client(transport=transport)
    ) as client:
        assert client.download("job", "pdf", target) == target  # retried, whole
    assert target.read_bytes() == whole
    assert sorted(tmp_path.iterdir()) == [target]

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=BreaksMidway()))
    with (
        ocrchat.Client(
            "ocr_t",
            base_url="http://ocr.test",
            http_client=httpx.Client(transport=transport),
            max_retries=0,
        ) as client,
        pytest.raises(ocrchat.APIConnectionError),
    ):
        client.download("job", "pdf", target)
    assert target.read_bytes() == whole  # the older file stays whole
    assert sorted(tmp_path.iterdir()) == [target]


def test_the_async_client_raw_and_streamed(live: Live, tmp_path: Path) -> None:
    async def main() -> None:
        async with ocrchat.AsyncClient(live.alice, base_url=live.url) as client:
            submitted = await client.with_raw_response.submit(
                image_bytes(PAGE, "PNG"), tier=ocrchat.Tier.CPU
            )
            assert submitted.status_code == 200
            job = submitted.parse()
            me = await client.with_raw_response.account()
            assert me.parse().name == "alice"
            assert me.request_id != submitted.request_id
            saved = await client.download(job, "pdf", tmp_path / "page.pdf")
            assert saved.read_bytes() == await client.download(job, "pdf")
            raw = await client.with_raw_response.download(job, "md")
            assert raw.parse() == raw.http_response.content
            with pytest.raises(ocrchat.NotFoundError) as caught:
                await client.with_raw_response.get("no-such-job")
            assert caught.value.request_id == caught.value.response.headers["X-Request-ID"]

    asyncio.run(main())
    assert sorted(tmp_path.iterdir()) == [tmp_path / "page.pdf"]


LOGGING_SCRIPT = """
import ocrchat
with ocrchat.Client() as client:
    client.account()
    try:
        client.get("no-such-job")
    except ocrchat.NotFoundError as error:
        print(error.request_id)
"""


def run_logging_script(live: Live, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "OCRCHAT_LOG"}
    environment.update(OCRCHAT_API_TOKEN=live.alice, OCRCHAT_BASE_URL=live.url, **variables)
    return subprocess.run(
        [sys.executable, "-c", LOGGING_SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def test_ocrchat_log_shows_each_request_never_the_token(live: Live) -> None:
    done = run_logging_script(live, OCRCHAT_LOG="debug")
    failed_id = done.stdout.strip()
    log = done.stderr
    account = re.search(
        rf"GET {re.escape(live.url)}/api/v1/account/: 200 OK in \d+ ms, request id (req_\w+)", log
    )
    assert account, log
    assert "/api/v1/ocr/no-such-job/: 404 Not Found in " in log
    assert log.rstrip().endswith(f"request id {failed_id}")
    assert "'authorization': '<redacted>'" in log  # the headers sent, at debug
    assert live.alice not in log

    quiet = run_logging_script(live, OCRCHAT_LOG="info")
    assert "request id" in quiet.stderr
    assert "authorization" not in quiet.stderr  # headers only at debug
    assert run_logging_script(live).stderr == ""  # without OCRCHAT_LOG: nothing


def test_retries_are_logged_with_why_and_how_long(caplog: pytest.LogCaptureFixture) -> None:
    """httpx's MockTransport stands in for a busy server."""
    answers = [
        httpx.Response(502, text="Bad gateway"),
        httpx.Response(
            429, json={"error": "Slow down.", "code": "rate_limited"}, headers={"Retry-After": "0"}
        ),
        httpx.Response(200, json={"name": "alice"}, headers={"X-Request-ID": "req_ok"}),
    ]
    transport = httpx.MockTransport(lambda request: answers.pop(0))
    with (
        caplog.at_level(logging.INFO, logger="ocrchat"),
        ocrchat.Client(
            "ocr_secret_token",
            base_url="http://ocr.test",
            http_client=httpx.Client(transport=transport),
        ) as client,
    ):
        assert client.account().name == "alice"
    lines = [record.getMessage() for record in caplog.records if record.name == "ocrchat"]
    url = "http://ocr.test/api/v1/account/"
    assert lines[0].startswith(f"GET {url}: 502 Bad Gateway in ")
    # backoff: 0.5 s less up to a quarter of jitter
    assert re.fullmatch(
        rf"retrying GET {re.escape(url)} in 0\.(3[89]|4\d|50) s \(retry 1 of at most 3\): "
        "502 Bad Gateway",
        lines[1],
    )
    assert lines[2].startswith(f"GET {url}: 429 Too Many Requests in ")
    assert lines[3] == (
        f"retrying GET {url} in 0.00 s (retry 2 of at most 3): 429 Too Many Requests, Retry-After 0"
    )
    assert re.fullmatch(rf"GET {re.escape(url)}: 200 OK in \d+ ms, request id req_ok", lines[4])
    assert not any("ocr_secret_token" in line for line in lines)


def test_ocrchat_log_adds_one_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("ocrchat")
    before, level = list(logger.handlers), logger.level
    monkeypatch.setenv("OCRCHAT_LOG", "info")
    try:
        for _ in range(3):
            ocrchat.Client("ocr_t", base_url="http://ocr.test").close()
        added = [handler for handler in logger.handlers if handler not in before]
        assert len(added) == 1
        assert isinstance(added[0], logging.StreamHandler)
        assert added[0].stream is sys.stderr
        assert logger.level == logging.INFO
    finally:
        logger.handlers[:] = before
        logger.setLevel(level)
