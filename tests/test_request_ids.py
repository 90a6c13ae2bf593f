"""``X-Request-ID`` on every answer of the real app: successes, errors of every layer,
unknown routes, a 500; in the error bodies, and in the log lines of the request."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from ocrchat_server.app import create_app
from ocrchat_server.http.request_ids import RequestIdFilter
from ocrchat_server.settings import Settings
from tests.conftest import Live, MovableClock, Server
from tests.documents import image_bytes, render_page
from tests.live import make_accounts

GENERATED = re.compile(r"req_[0-9a-f]{32}")


def request_id(response: httpx.Response) -> str:
    found: str | None = response.headers.get("X-Request-ID")
    assert found is not None, f"{response.request.url} answered without X-Request-ID"
    return found


def test_every_answer_has_its_own_request_id(server: Server) -> None:
    page = image_bytes(render_page([["Request ids"]]), "PNG")
    client, headers = server.client, server.headers()
    answers = {
        200: client.get("/api/v1/account/", headers=headers),
        400: client.post(
            "/api/v1/ocr/", headers=headers, files={"file": ("x.bin", b"not a document")}
        ),
        401: client.get("/api/v1/account/"),
        404: client.get("/api/v1/no-such-endpoint/", headers=headers),
        405: client.put("/api/v1/account/", headers=headers),
    }
    health = client.get("/healthz")
    done = client.post("/api/v1/ocr/", headers=headers, files={"file": ("p.png", page)})
    download = client.get(
        f"/api/v1/ocr/{done.json()['uuid']}/download/", params={"format": "pdf"}, headers=headers
    )

    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        # an error body names the request it answers: the same id as the header
        if status >= 400:
            assert answer.json()["request_id"] == request_id(answer)
    assert "request_id" not in answers[200].json()
    assert (health.status_code, done.status_code, download.status_code) == (200, 200, 200)
    assert download.content.startswith(b"%PDF")  # a streamed file answer carries one too
    ids = [request_id(answer) for answer in [*answers.values(), health, done, download]]
    assert all(GENERATED.fullmatch(found) for found in ids)
    assert len(set(ids)) == len(ids)


def test_a_sane_client_id_is_kept_and_any_other_replaced(server: Server) -> None:
    for sent in ("trace-7f3a.b_c:1", "x", "a" * 128):
        answer = server.client.get("/api/v1/ocr/nope/", headers={"X-Request-ID": sent})
        assert request_id(answer) == sent
        assert answer.json()["request_id"] == sent
    # spaces, quotes and overlong ids could forge a log line or bloat it: a new id instead
    for insane in ("two words", 'a"b', "a" * 129, "", "id;drop"):
        answer = server.client.get("/healthz", headers={"X-Request-ID": insane})
        assert GENERATED.fullmatch(request_id(answer)), insane


@pytest.fixture
def broken_server(settings: Settings, clock: MovableClock) -> Iterator[tuple[TestClient, str]]:
    """The real app whose records have gone (its database closed under it), so that every
    authenticated request fails with an unhandled error: a 500. Answered, not raised."""
    (token,) = make_accounts(settings, "alice")
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.app.state.services.backend.close()  # type: ignore[attr-defined]
        yield client, token


def test_a_500_carries_its_id_in_the_answer_and_in_the_log(
    broken_server: tuple[TestClient, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, token = broken_server
    # what a deployment does with its log handlers: the id beside every record
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="ocrchat_server"):
        answer = client.get(
            "/api/v1/account/",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "incident-42"},
        )
    assert answer.status_code == 500
    assert request_id(answer) == "incident-42"
    assert answer.json() == {
        "error": "The server failed to handle this request.",
        "code": "internal_error",
        "request_id": "incident-42",
    }
    failure = next(r for r in caplog.records if r.getMessage().startswith("unhandled error"))
    assert failure.request_id == "incident-42"  # type: ignore[attr-defined]
    assert failure.exc_info is not None
    access = next(r for r in caplog.records if r.name == "ocrchat_server.access")
    assert re.search(r'"GET /api/v1/account/" 500 \d+ms incident-42$', access.getMessage())


def test_a_log_record_outside_a_request_has_a_dash() -> None:
    record = logging.LogRecord("ocrchat_server", logging.INFO, __file__, 1, "started", None, None)
    assert RequestIdFilter().filter(record)
    assert record.request_id == "-"  # type: ignore[attr-defined]


def test_the_access_log_of_a_real_server_names_the_request(live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        answer = client.get("/api/v1/ocr/nope/", headers={"X-Request-ID": "live-trace-1"})
        anonymous = client.get("/healthz")
    assert answer.status_code == 401
    # the access line is written once the response is sent: the client may read the
    # response a moment before the server's log has the line
    deadline = time.monotonic() + 10
    log = live.server.log.read_text()
    while request_id(anonymous) not in log and time.monotonic() < deadline:
        time.sleep(0.1)
        log = live.server.log.read_text()
    assert re.search(r'"GET /api/v1/ocr/nope/" 401 \d+ms live-trace-1$', log, re.MULTILINE)
    assert '"GET /healthz" 200' in log
    assert request_id(anonymous) in log
