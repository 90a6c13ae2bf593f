"""The HTTP API against the real app, real Tesseract and real poppler."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import Live, Server
from tests.documents import image_bytes, multipage_tiff, numbered_pdf, render_page

API = "/api/v1/ocr/"

INVOICE = render_page(
    [["INVOICE 2041 from Acme Corporation"], ["Total amount due: 215 dollars", "Due by March 3"]]
)


@pytest.fixture
def server(any_server: Server) -> Server:
    """Every test of the API's behaviour runs in the embedded and the scale-out mode."""
    return any_server


def submit(
    server: Server, content: bytes, name: str = "doc.bin", token: str | None = None, **fields: str
) -> Any:
    return server.client.post(
        API, headers=server.headers(token), files={"file": (name, content)}, data=fields
    )


def wait_until_finished(server: Server, uuid: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = server.client.get(f"{API}{uuid}/", headers=server.headers()).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    assert "Traceback" not in response.text
    return body


def test_one_page_png_is_done_in_the_post_response(server: Server) -> None:
    response = submit(server, image_bytes(INVOICE, "PNG"), "invoice.png")

    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "done"
    assert job["page_count"] == 1
    assert "Acme Corporation" in job["text"]
    assert "215 dollars" in job["text"]
    assert "Acme Corporation" in job["markdown"]
    assert 0.5 < job["mean_confidence"] <= 1.0
    page = job["pages"][0]
    assert page["index"] == 0
    assert (page["width"], page["height"]) == INVOICE.size
    assert len(page["blocks"]) == 3  # one block per text line
    for block in page["blocks"]:
        x0, y0, x1, y1 = block["bbox"]
        assert 0 <= x0 < x1 <= page["width"]
        assert 0 <= y0 < y1 <= page["height"]
        assert 0.0 <= block["confidence"] <= 1.0
    total_line = next(b for b in page["blocks"] if "Total" in b["text"])
    # the line was drawn at y = 90 + 4 * 44 (heading-free page: 2nd paragraph's first line)
    assert total_line["bbox"][1] < total_line["bbox"][3] < INVOICE.size[1] / 2


def test_the_job_reads_back_the_same(server: Server) -> None:
    posted = submit(server, image_bytes(INVOICE, "PNG")).json()
    fetched = server.client.get(f"{API}{posted['uuid']}/", headers=server.headers())
    assert fetched.status_code == 200
    assert fetched.json() == posted
    assert "retry-after" not in fetched.headers


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("JPEG", {"quality": 95}),
        ("WEBP", {"lossless": True}),
        ("GIF", {}),
        ("BMP", {}),
    ],
)
def test_every_image_format_is_read(server: Server, fmt: str, options: dict[str, Any]) -> None:
    # The name says .dat: the type comes from the bytes.
    job = submit(server, image_bytes(INVOICE, fmt, **options), "upload.dat").json()
    assert job["status"] == "done", job
    assert "Acme Corporation" in job["text"]


def test_every_tiff_frame_is_a_page(server: Server) -> None:
    frames = [
        render_page([[f"Frame number {word} of the scan"]]) for word in ("one", "two", "three")
    ]
    job = submit(server, multipage_tiff(frames), "scan.tiff").json()
    assert job["status"] == "done"
    assert job["page_count"] == 3
    assert [p["index"] for p in job["pages"]] == [0, 1, 2]
    for page, word in zip(job["pages"], ("one", "two", "three"), strict=True):
        assert f"Frame number {word}" in page["text"]


def test_a_small_pdf_is_rasterized_and_read(server: Server) -> None:
    job = submit(server, numbered_pdf(2), "report.pdf").json()
    assert job["status"] == "done"
    assert job["page_count"] == 2
    assert "Page 2 of the quarterly report" in job["pages"][1]["text"]
    # rasterized at 300 dpi: an A4 page is about 2480 x 3508 pixels
    assert abs(job["pages"][0]["width"] - 2480) < 10


def test_a_seven_page_pdf_is_queued_then_done(server: Server) -> None:
    response = submit(server, numbered_pdf(7), "report.pdf")

    assert response.status_code == 202
    job = response.json()
    # queued, or already begun by a free worker: not done in the POST
    assert job["status"] in ("pending", "processing")
    assert job["page_count"] == 7
    assert job["progress"]["pages_total"] == 7
    assert job["progress"]["pages_done"] < 7
    assert response.headers["retry-after"] == "2"

    done = wait_until_finished(server, job["uuid"])
    assert done["status"] == "done"
    assert done["page_count"] == 7
    assert done["progress"] == {"pages_done": 7, "pages_total": 7}
    for n, page in enumerate(done["pages"], start=1):
        assert f"Page {n} of the quarterly report" in page["text"]
    assert done["text"].index("Page 3 of") < done["text"].index("Page 4 of")


def test_downloads_txt_and_json(server: Server) -> None:
    job = submit(server, numbered_pdf(2), "Quarterly report é.pdf").json()
    base = f"{API}{job['uuid']}/download/"

    txt = server.client.get(base, params={"format": "txt"}, headers=server.headers())
    assert txt.status_code == 200
    assert txt.headers["content-type"] == "text/plain; charset=utf-8"
    disposition = txt.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Quarterly%20report%20%C3%A9.txt" in disposition
    assert txt.text.split("\f")[1].startswith("Page 2 of the quarterly report")

    as_json = server.client.get(base, params={"format": "json"}, headers=server.headers())
    assert as_json.status_code == 200
    assert (
        as_json.json() == server.client.get(f"{API}{job['uuid']}/", headers=server.headers()).json()
    )


def test_language_codes_of_every_kind_are_accepted(server: Server) -> None:
    for language in ("en", "eng", "en+de", "Latin", "script/Latin"):
        job = submit(server, image_bytes(INVOICE, "PNG"), language=language).json()
        assert job["status"] == "done", (language, job)
        assert job["language"] == language
        assert "Acme" in job["text"]


# --- errors -----------------------------------------------------------------


def test_errors_for_bad_uploads(server: Server) -> None:
    no_file = server.client.post(API, headers=server.headers(), data={"tier": "cpu"})
    assert_error(no_file, 400, "not_multipart")
    wrong_field = server.client.post(
        API, headers=server.headers(), files={"document": ("a.png", image_bytes(INVOICE, "PNG"))}
    )
    assert_error(wrong_field, 400, "missing_file")
    assert_error(submit(server, b"", "empty.png"), 400, "unreadable_file")
    assert_error(submit(server, b"just some text, not a page", "notes.txt"), 400, "unreadable_file")
    body = assert_error(
        submit(server, image_bytes(INVOICE, "PNG")[:400], "cut.png"), 400, "unreadable_file"
    )
    assert "damaged" in body["error"]
    assert_error(submit(server, b"%PDF-1.7\n garbage", "broken.pdf"), 400, "unreadable_file")
    ppm = io.BytesIO()
    INVOICE.save(ppm, format="PPM")
    body = assert_error(submit(server, ppm.getvalue(), "page.ppm"), 400, "unreadable_file")
    assert "PPM" in body["error"]


def test_errors_for_bad_parameters(server: Server) -> None:
    png = image_bytes(INVOICE, "PNG")
    body = assert_error(submit(server, png, language="xx"), 400, "unsupported_language")
    assert "'xx'" in body["error"]
    assert body["language"] == "xx"
    body = assert_error(submit(server, png, language="de+klingon"), 400, "unsupported_language")
    assert "klingon" in body["error"]
    assert_error(submit(server, png, tier="gpu"), 400, "invalid_tier")
    assert_error(submit(server, png, tool="make-coffee"), 400, "invalid_tool")
    assert_error(submit(server, png, tool="translate"), 400, "missing_translate_to")
    body = assert_error(submit(server, png, tier="vlm"), 503, "tier_unavailable")
    assert "tier=cpu" in body["error"]


def test_uploads_over_the_limit_are_refused(server: Server) -> None:
    limit = server.settings.max_upload_bytes
    big = b"\x89PNG" + b"\0" * (limit + 1)
    assert_error(submit(server, big, "big.png"), 400, "file_too_large")

    def chunked() -> Any:  # no Content-Length: the stream itself is cut off
        boundary = b"xyz"
        yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
        for _ in range(limit // (1024 * 1024) + 2):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--" + boundary + b"--\r\n"

    response = server.client.post(
        API,
        headers={**server.headers(), "Content-Type": "multipart/form-data; boundary=xyz"},
        content=chunked(),
    )
    assert_error(response, 400, "file_too_large")
    assert server.backend.storage.uploads_held() == []
    # and the server keeps serving
    assert submit(server, image_bytes(INVOICE, "PNG")).json()["status"] == "done"


def test_authentication(server: Server) -> None:
    png = image_bytes(INVOICE, "PNG")
    missing = server.client.post(API, files={"file": ("a.png", png)})
    assert_error(missing, 401, "missing_token")
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = server.client.post(
        API, headers={"Authorization": "Bearer ocr_0_nope"}, files={"file": ("a.png", png)}
    )
    assert_error(wrong, 401, "invalid_token")
    tampered = server.alice[:-2] + ("AA" if not server.alice.endswith("AA") else "BB")
    assert_error(submit(server, png, token=tampered), 401, "invalid_token")
    by_query = server.client.post(
        API, params={"api_token": server.alice}, files={"file": ("a.png", png)}
    )
    assert by_query.status_code == 200


def test_one_account_never_sees_anothers_job(server: Server) -> None:
    job = submit(server, image_bytes(INVOICE, "PNG")).json()
    url = f"{API}{job['uuid']}/"
    as_bob = server.headers(server.bob)

    assert_error(server.client.get(url, headers=as_bob), 404, "not_found")
    assert_error(
        server.client.get(url + "download/", params={"format": "txt"}, headers=as_bob),
        404,
        "not_found",
    )
    assert_error(server.client.delete(url, headers=as_bob), 404, "not_found")
    assert_error(
        server.client.post(f"/api/v1/chat/{job['uuid']}/", json={"message": "hi"}, headers=as_bob),
        404,
        "not_found",
    )
    # the same answer as for a job that does not exist at all
    assert_error(
        server.client.get(f"{API}00000000-0000-4000-8000-000000000000/", headers=as_bob),
        404,
        "not_found",
    )
    assert_error(server.client.get(f"{API}not-a-uuid/", headers=as_bob), 404, "not_found")
    # Bob's tries changed nothing for Alice
    assert server.client.get(url, headers=server.headers()).json() == job


def test_download_and_chat_wait_for_the_job(server: Server) -> None:
    job = submit(server, numbered_pdf(7)).json()
    url = f"{API}{job['uuid']}/download/"
    assert_error(
        server.client.get(url, params={"format": "txt"}, headers=server.headers()),
        409,
        "job_not_done",
    )
    assert_error(
        server.client.post(
            f"/api/v1/chat/{job['uuid']}/", json={"message": "total?"}, headers=server.headers()
        ),
        409,
        "job_not_done",
    )
    assert_error(
        server.client.get(url, params={"format": "pptx"}, headers=server.headers()),
        400,
        "invalid_format",
    )
    assert wait_until_finished(server, job["uuid"])["status"] == "done"
    history = server.client.get(f"/api/v1/chat/{job['uuid']}/history/", headers=server.headers())
    assert history.json() == {"conversations": []}  # nothing asked yet


def test_unknown_routes_and_methods_answer_json(server: Server) -> None:
    assert_error(server.client.get("/api/v1/nothing/"), 404, "not_found")
    assert_error(server.client.put(API, headers=server.headers()), 405, "method_not_allowed")


def test_tools_engines_and_account(server: Server) -> None:
    tools = server.client.get("/api/v1/tools/").json()["tools"]
    assert {t["slug"] for t in tools} == {"extract-tables", "handwriting-to-text", "translate"}
    engines = {e["tier"]: e for e in server.client.get("/api/v1/engines/").json()["engines"]}
    assert engines["cpu"]["ready"] is True
    assert len(engines["cpu"]["languages"]) > 100
    assert engines["vlm"]["ready"] is False

    submit(server, numbered_pdf(2))
    account = server.client.get("/api/v1/account/", headers=server.headers()).json()
    assert account["name"] == "alice"
    assert account["usage"]["day"] == 2
    bob = server.client.get("/api/v1/account/", headers=server.headers(server.bob)).json()
    assert bob["usage"]["day"] == 0


def test_an_image_with_too_many_pixels_is_refused(server: Server) -> None:
    bomb = io.BytesIO()
    Image.new("1", (20_000, 10_000), 1).save(bomb, format="PNG")  # 200 Mpx in a few kB
    assert len(bomb.getvalue()) < server.settings.max_upload_bytes
    body = assert_error(submit(server, bomb.getvalue(), "bomb.png"), 400, "unreadable_file")
    assert "too many pixels" in body["error"]


def test_a_small_file_goes_ahead_of_a_queued_large_one(server: Server) -> None:
    # ocr=force: its pages are OCRed, not read from their text layer in milliseconds
    large = submit(server, numbered_pdf(24), ocr="force").json()
    assert large["status"] in ("pending", "processing")

    small = submit(server, image_bytes(INVOICE, "PNG")).json()

    assert small["status"] == "done"
    # the small job did not wait for the 24 pages in the queue before it
    still_running = server.client.get(f"{API}{large['uuid']}/", headers=server.headers()).json()
    assert still_running["status"] == "processing"
    assert still_running["progress"]["pages_done"] < 24
    server.client.delete(f"{API}{large['uuid']}/", headers=server.headers())


def test_a_replay_while_the_first_request_runs_waits_for_its_result(live: Live) -> None:
    """A client whose first request timed out retries with the same key while the server
    still reads the page: the retry answers as the first would have, done, not
    ``processing`` (a one-page submit once came back unfinished)."""
    page = render_page([[f"Line {n} of a page that takes a moment to read."] for n in range(20)])
    png = image_bytes(page, "PNG")
    headers = {"Authorization": f"Bearer {live.alice}", "Idempotency-Key": "slow-7c1d"}
    answers: dict[str, httpx.Response] = {}

    def post(name: str) -> None:
        answers[name] = httpx.post(
            f"{live.url}{API}", headers=headers, files={"file": ("a.png", png)}, timeout=120
        )

    first = threading.Thread(target=post, args=("first",))
    first.start()
    time.sleep(0.5)  # the first is being read now
    post("replay")
    first.join()
    assert answers["replay"].headers.get("idempotent-replayed") == "true"
    assert answers["replay"].status_code == 200, answers["replay"].json()
    replayed = answers["replay"].json()
    assert replayed["status"] == "done"
    assert replayed["uuid"] == answers["first"].json()["uuid"]
    assert replayed["text"] == answers["first"].json()["text"]


def test_a_repeated_idempotency_key_returns_the_first_job(server: Server) -> None:
    png = image_bytes(INVOICE, "PNG")
    headers = {**server.headers(), "Idempotency-Key": "retry-me-7f3a"}
    first = server.client.post(API, headers=headers, files={"file": ("a.png", png)})
    again = server.client.post(API, headers=headers, files={"file": ("a.png", png)})

    assert first.status_code == again.status_code == 200
    assert again.json()["uuid"] == first.json()["uuid"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert server.backend.storage.uploads_held() == []
    usage = server.client.get("/api/v1/account/", headers=server.headers()).json()["usage"]
    assert usage["day"] == 1  # processed once
    # keys belong to an account: Bob's same key is a job of his own
    bobs = server.client.post(
        API,
        headers={**server.headers(server.bob), "Idempotency-Key": "retry-me-7f3a"},
        files={"file": ("a.png", png)},
    )
    assert bobs.json()["uuid"] != first.json()["uuid"]
    bad_key = {**server.headers(), "Idempotency-Key": "x" * 300}
    assert_error(
        server.client.post(API, headers=bad_key, files={"file": ("a.png", png)}),
        400,
        "invalid_idempotency_key",
    )
