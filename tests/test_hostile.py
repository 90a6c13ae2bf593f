"""Hostile inputs: each gets a clear answer in bounded time, charges nothing it should not,
and leaves the server serving everyone else (issue 14).

The render-time bomb, the killed workers and the deleted running job run against a real
``ocrchat-server serve`` and look at its real processes in /proc.
"""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ocrchat_server.engines.languages import installed_models
from ocrchat_server.settings import Settings
from tests.conftest import MovableClock, ScaleOutServers, Server, started
from tests.documents import cropped_pdf, numbered_pdf, render_bomb_pdf, render_page
from tests.live import LiveServer, WorkerProcess, make_accounts
from tests.test_api import API, assert_error, submit
from tests.test_restart import running, worker_pids


def usage(server: Server, token: str | None = None) -> dict[str, int]:
    account = server.client.get("/api/v1/account/", headers=server.headers(token)).json()
    return dict(account["usage"])


# --- what the upload is ----------------------------------------------------------------


def test_a_png_with_a_pdf_header_in_a_text_chunk_is_read_as_a_png(server: Server) -> None:
    page = render_page([["Invoice number 4417"]], size=(900, 300))
    info = PngInfo()
    info.add_text("Comment", "%PDF-1.7 this is not a PDF")
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", pnginfo=info)
    assert b"%PDF-" in buffer.getvalue()[:1024]

    job = submit(server, buffer.getvalue(), "scan.png", language="eng").json()
    assert job["status"] == "done", job
    assert "4417" in job["text"]


def encrypted_pdf() -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(numbered_pdf(1))) as pdf:
        buffer = io.BytesIO()
        pdf.save(buffer, encryption=pikepdf.Encryption(owner="o", user="secret"))
        return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (numbered_pdf(3)[:300], "damaged or password-protected"),
        (encrypted_pdf(), "damaged or password-protected"),
        (b"PK\x03\x04" + b"\0" * 100 + b"%PDF-1.7 inside a zip", "could not be read"),
    ],
    ids=["zero-byte", "truncated-pdf", "encrypted-pdf", "zip-with-pdf-marker"],
)
def test_unreadable_uploads_are_refused_and_cost_nothing(
    server: Server, content: bytes, message: str
) -> None:
    body = assert_error(submit(server, content, "upload.pdf"), 400, "unreadable_file")
    assert message in body["error"]
    assert usage(server) == {"day": 0, "month": 0}
    assert submit(server, numbered_pdf(1), "fine.pdf").json()["status"] == "done"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\me\\Desktop\\scan.pdf", "scan.pdf"),
        ("/abs/path/report.pdf", "report.pdf"),
    ],
)
def test_path_named_uploads_keep_only_their_last_part(server: Server, sent: str, kept: str) -> None:
    job = submit(server, numbered_pdf(1), sent).json()
    assert job["filename"] == kept
    # nothing was written outside the data dir under the name it was sent with
    assert not (server.settings.data_dir.parent / "etc").exists()


@pytest.mark.parametrize("language", ["osd", "OSD", "eng+osd", "script/osd"])
def test_the_orientation_model_is_not_a_language(server: Server, language: str) -> None:
    assert "osd" in installed_models()  # installed, and still refused
    response = submit(server, numbered_pdf(1), "a.pdf", language=language)
    assert_error(response, 400, "unsupported_language")
    assert usage(server) == {"day": 0, "month": 0}


@pytest.fixture
def capped(settings: Settings, clock: MovableClock) -> Iterator[Server]:
    """A server with small caps on pixels per page and models per request."""
    options = attrs.evolve(settings, max_page_pixels=1_000_000, max_models=3)
    with started(options, clock) as server:
        yield server


def test_naming_too_many_models_is_refused_before_anything_is_charged(capped: Server) -> None:
    body = assert_error(
        submit(capped, numbered_pdf(1), "a.pdf", language="eng+deu+fra+spa"),
        400,
        "too_many_languages",
    )
    assert "at most 3" in body["error"]
    assert usage(capped) == {"day": 0, "month": 0}
    assert submit(capped, numbered_pdf(1), "a.pdf", language="eng+deu+fra").status_code == 200


def test_an_image_over_the_pixel_cap_is_refused_before_anything_is_charged(
    capped: Server,
) -> None:
    big = io.BytesIO()
    Image.new("RGBA", (1200, 1000), "white").save(big, format="PNG")
    body = assert_error(submit(capped, big.getvalue(), "big.png"), 400, "too_many_pixels")
    assert "1200 x 1000" in body["error"]

    # a TIFF whose second frame alone is too big
    frames = [Image.new("L", (500, 500), 255), Image.new("L", (1100, 1000), 255)]
    tiff = io.BytesIO()
    frames[0].save(tiff, format="TIFF", save_all=True, append_images=frames[1:])
    body = assert_error(submit(capped, tiff.getvalue(), "two.tiff"), 400, "too_many_pixels")
    assert "Page 2" in body["error"]
    assert usage(capped) == {"day": 0, "month": 0}


# --- what the page is -------------------------------------------------------------------


def test_a_small_crop_box_over_a_huge_media_box_is_read_at_its_shown_size(
    server: Server,
) -> None:
    """pdfinfo sizes the crop box; poppler used to draw the media box (85 inches square:
    a 25,500 px image and gigabytes for one page)."""
    job = submit(server, cropped_pdf(media_inches=85), "poster.pdf").json()
    assert job["status"] == "done", job
    (page,) = job["pages"]
    assert (page["width"], page["height"]) == (300, 300)  # one inch at 300 dpi


def test_a_page_that_renders_empty_fails_and_is_refunded(server: Server) -> None:
    job = submit(server, cropped_pdf(media_inches=8, crop_inches=0.01), "dot.pdf").json()
    assert job["status"] == "failed", job
    assert "empty" in job["error"]
    assert usage(server) == {"day": 0, "month": 0}


# --- polls ----------------------------------------------------------------------------


def test_a_done_job_polled_again_and_again_answers_the_same_until_deleted(
    server: Server,
) -> None:
    """A done job's JSON is rendered once and kept; a deleted job is never served from it."""
    job = submit(server, numbered_pdf(3), "report.pdf").json()
    url = f"{API}{job['uuid']}/"
    polls = [server.client.get(url, headers=server.headers()) for _ in range(3)]
    assert all(poll.status_code == 200 for poll in polls)
    assert polls[0].headers["content-type"] == "application/json"
    assert polls[0].json() == polls[2].json() == job
    assert server.client.get(url, headers=server.headers(server.bob)).status_code == 404
    server.client.delete(url, headers=server.headers())
    assert server.client.get(url, headers=server.headers()).status_code == 404


# --- names ------------------------------------------------------------------------------


def raw_upload(server: Server, filename: bytes, content: bytes) -> httpx.Response:
    """A multipart body written by hand: clients escape control characters in a filename,
    a hostile one sends them raw."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + content
        + b"\r\n--XX--\r\n"
    )
    headers = {**server.headers(), "Content-Type": "multipart/form-data; boundary=XX"}
    response: httpx.Response = server.client.post(API, headers=headers, content=body)
    return response


@pytest.mark.parametrize(
    "filename",
    [b"re\x00port.pdf", b"re\x1bport\x7f.pdf", "ré\u0085po\u200ert.pdf".encode(), b"\x00\x00"],
)
def test_any_uploaded_name_gives_downloads_a_valid_header(server: Server, filename: bytes) -> None:
    response = raw_upload(server, filename, numbered_pdf(1))
    assert response.status_code == 200, response.text
    job = response.json()
    stored = job["filename"]
    assert stored is None or all(ch.isprintable() for ch in stored), stored
    download = server.client.get(
        f"{API}{job['uuid']}/download/?format=txt", headers=server.headers()
    )
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert disposition.isascii(), disposition
    assert disposition.isprintable(), disposition
    assert "Page 1 of the quarterly report" in download.text


def test_a_255_character_name_downloads_under_a_255_character_name(server: Server) -> None:
    name = "q" * 251 + ".pdf"
    job = submit(server, numbered_pdf(1), name).json()
    assert job["filename"] == name
    for fmt in ("txt", "docx", "xlsx"):
        download = server.client.get(
            f"{API}{job['uuid']}/download/?format={fmt}", headers=server.headers()
        )
        assert download.status_code == 200
        fallback = download.headers["content-disposition"].split('filename="')[1].split('"')[0]
        assert len(fallback) <= 255
        assert fallback.endswith(f".{fmt}")


# --- a real server's processes ---------------------------------------------------------


def rasterizers(data_dir: Path, job: str = "") -> dict[int, int]:
    """The ``pdftoppm`` processes drawing uploads of the server at ``data_dir`` (of job
    ``job`` alone, when given): pid -> parent pid."""
    found: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\x00")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        arguments = b" ".join(command)
        if (
            command[0].endswith(b"pdftoppm")
            and str(data_dir).encode() in arguments
            and job.encode() in arguments
        ):
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                found[int(proc.name)] = int(fields[1])
    return found


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.1)
    return value


def client_of(server: LiveServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )


@contextmanager
def hostile_server(tmp_path: Path, *options: str) -> Iterator[tuple[LiveServer, Any, Any]]:
    """A real server with 2 workers, and clients for Mallory (the attacker) and Alice."""
    data_dir = tmp_path / "data"
    mallory, alice = make_accounts(Settings(data_dir=data_dir), "mallory", "alice")
    with (
        LiveServer(data_dir, workers=2, extra_args=list(options)) as server,
        client_of(server, mallory) as attacker,
        client_of(server, alice) as user,
    ):
        try:
            yield server, attacker, user
        finally:
            # whatever the test saw, nothing it started may outlive it
            for pid in rasterizers(data_dir):
                os.kill(pid, signal.SIGKILL)


def finished(client: httpx.Client, uuid: str, timeout: float = 120) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (
                (job := client.get(f"{API}{uuid}/").json())["status"] in ("done", "failed") and job
            ),
            timeout,
            "the job finished",
        )
    )


def test_a_render_bomb_fails_at_the_page_time_limit_and_its_rasterizer_is_killed(
    tmp_path: Path,
) -> None:
    with hostile_server(tmp_path, "--page-timeout", "3s") as (server, attacker, user):
        started_at = time.monotonic()
        # two pages: read while the POST waits
        job = attacker.post(API, files={"file": ("bomb.pdf", render_bomb_pdf(pages=2))}).json()
        assert job["status"] == "failed", job
        assert "limit of 3 seconds per page" in job["error"]
        assert time.monotonic() - started_at < 60
        wait_for(lambda: not rasterizers(server.data_dir), 10, "no rasterizer left")
        # refunded, and everyone else is served
        assert attacker.get("/api/v1/account/").json()["usage"]["day"] == 0
        assert user.post(API, files={"file": ("a.pdf", numbered_pdf(1))}).json()["status"] == (
            "done"
        )


def test_deleting_a_running_job_stops_its_rasterizers(tmp_path: Path) -> None:
    with hostile_server(tmp_path) as (server, attacker, user):
        # six pages: queued, read in the background on both workers
        job = attacker.post(API, files={"file": ("bomb.pdf", render_bomb_pdf(pages=6))}).json()
        wait_for(lambda: len(rasterizers(server.data_dir)) == 2, 60, "both workers drawing")
        deleted = attacker.delete(f"{API}{job['uuid']}/")
        assert deleted.json()["refunded"] == 6
        wait_for(lambda: not rasterizers(server.data_dir), 15, "the rasterizers stopped")
        assert user.post(API, files={"file": ("a.pdf", numbered_pdf(1))}).json()["status"] == (
            "done"
        )
        assert attacker.get(f"{API}{job['uuid']}/").status_code == 404


def test_a_killed_rasterizer_fails_its_page_cleanly(tmp_path: Path) -> None:
    """pdftoppm killed mid-page (the OOM killer's usual pick): the page fails with a clear
    error, the job's other page being read is stopped at once (not at the time limit), the
    job is refunded, and the server reads the next job."""
    with hostile_server(tmp_path) as (server, attacker, user):
        job = attacker.post(API, files={"file": ("bomb.pdf", render_bomb_pdf(pages=6))}).json()
        drawing = wait_for(lambda: rasterizers(server.data_dir, job["uuid"]), 60, "drawing")
        assert server.process is not None
        for pid in drawing:
            os.kill(pid, signal.SIGKILL)
        failed = finished(attacker, job["uuid"])
        assert failed["status"] == "failed"
        assert "could not be rendered" in failed["error"]
        assert attacker.get("/api/v1/account/").json()["usage"]["day"] == 0
        wait_for(lambda: not rasterizers(server.data_dir), 15, "no rasterizer left")
        done = user.post(API, files={"file": ("a.pdf", numbered_pdf(1))}).json()
        assert done["status"] == "done"
        process = server.process
        wait_for(lambda: len(worker_pids(process.pid)) == 2, 30, "two workers")


def test_a_worker_killed_twice_fails_only_the_page_it_was_reading(tmp_path: Path) -> None:
    """Mallory's page kills its worker (here: SIGKILL, as the OOM killer sends it) twice;
    Alice's seven pages, read meanwhile on the other worker, are all done. One page in
    flight per account: Mallory's six pages cannot take both workers."""
    with hostile_server(tmp_path, "--pages-in-flight-per-account", "1") as (
        server,
        attacker,
        user,
    ):
        bomb = attacker.post(API, files={"file": ("bomb.pdf", render_bomb_pdf(pages=6))}).json()
        assert server.process is not None
        workers_before = set(worker_pids(server.process.pid))
        innocent = user.post(
            API, files={"file": ("report.pdf", numbered_pdf(7))}, data={"ocr": "force"}
        ).json()
        killed: list[int] = []
        for _ in range(2):
            # a live worker of the server drawing (an orphaned rasterizer's parent is
            # init until the server kills it)
            drawing = wait_for(
                lambda: [
                    parent
                    for parent in rasterizers(server.data_dir, bomb["uuid"]).values()
                    if parent in worker_pids(server.process.pid) and parent not in killed
                ],
                60,
                "a worker drawing the bomb",
            )
            # its cap: one page at a time
            assert len(rasterizers(server.data_dir, bomb["uuid"])) == 1
            os.kill(drawing[0], signal.SIGKILL)
            killed.append(drawing[0])

        failed = finished(attacker, bomb["uuid"])
        assert failed["status"] == "failed"
        assert "crashed on page" in failed["error"]
        done = finished(user, innocent["uuid"], timeout=240)
        assert done["status"] == "done", done
        for n, page in enumerate(done["pages"], start=1):
            assert f"Page {n} of the quarterly report" in page["text"]
        # the dead workers' rasterizers went with them, and fresh workers took their place
        wait_for(lambda: not rasterizers(server.data_dir), 10, "no orphaned rasterizer")
        assert not any(running(pid) for pid in killed)
        process = server.process
        wait_for(lambda: len(worker_pids(process.pid)) == 2, 30, "two workers again")
        assert set(worker_pids(process.pid)) != workers_before


def test_scale_out_a_bomb_fails_at_the_time_limit_and_delete_stops_its_page(
    tmp_path: Path, scale_out_servers: ScaleOutServers
) -> None:
    """The same limits in the scale-out mode: Celery's time limit fails the bomb's pages, and
    DELETE revokes a page being read, which kills its worker process and the rasterizer."""
    number = next(scale_out_servers.numbers)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=scale_out_servers.postgres.create_database(f"hostile{number}"),
        broker_url=scale_out_servers.redis.fresh_database(number),
        storage=tmp_path / "shared",
    )
    assert settings.database_url
    assert settings.broker_url
    mallory, alice = make_accounts(settings, "mallory", "alice")
    scale = ["--database-url", settings.database_url, "--broker-url", settings.broker_url]
    scale += ["--storage", str(settings.storage)]
    with (
        LiveServer(tmp_path / "api", workers=1, extra_args=scale) as server,
        WorkerProcess(
            settings, tmp_path / "worker.log", concurrency=2, extra_args=["--page-timeout", "15s"]
        ),
        client_of(server, mallory) as attacker,
        client_of(server, alice) as user,
    ):
        try:
            job = attacker.post(API, files={"file": ("bomb.pdf", render_bomb_pdf(pages=2))}).json()
            failed = finished(attacker, job["uuid"])
            assert failed["status"] == "failed"
            assert "limit of 15 seconds per page" in failed["error"]
            assert attacker.get("/api/v1/account/").json()["usage"]["day"] == 0
            shared = settings.storage
            assert shared is not None
            wait_for(lambda: not rasterizers(shared), 15, "no rasterizer left")

            # six pages, background; deleted while its pages are drawn
            queued = attacker.post(
                API, files={"file": ("bomb.pdf", render_bomb_pdf(pages=6))}
            ).json()
            wait_for(lambda: rasterizers(shared, queued["uuid"]), 60, "a worker drawing")
            assert attacker.delete(f"{API}{queued['uuid']}/").json()["deleted"] is True
            wait_for(lambda: not rasterizers(shared, queued["uuid"]), 10, "the page stopped")
            done = user.post(API, files={"file": ("a.pdf", numbered_pdf(1))}).json()
            assert finished(user, done["uuid"])["status"] == "done"
        finally:
            for pid in rasterizers(tmp_path):
                os.kill(pid, signal.SIGKILL)
