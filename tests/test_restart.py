"""Jobs survive the server: killed mid-run, they resume from the pages not yet done."""

from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from ocrchat.models import JobStatus, Tier
from ocrchat_server.app import create_app
from ocrchat_server.jobs.embedded import open_backend
from ocrchat_server.jobs.embedded.process_pool import MAX_INTERRUPTIONS
from ocrchat_server.jobs.interfaces import Backend
from ocrchat_server.jobs.records import JobRecord
from ocrchat_server.settings import Settings
from tests.documents import numbered_pdf
from tests.live import LiveServer, backend_of, child_pids, make_accounts


def poll(client: httpx.Client, url: str, until: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(url).json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


@contextmanager
def stopped_server_backend(data_dir: Path) -> Iterator[Backend]:
    """The records and storage a stopped server left, through their interfaces."""
    backend = open_backend(Settings(data_dir=data_dir))
    try:
        yield backend
    finally:
        backend.close()


def test_a_job_killed_mid_run_resumes_after_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "alice")
    headers = {"Authorization": f"Bearer {token}"}
    server = LiveServer(data_dir, workers=1).start()
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            # ocr=force: OCRed pages take seconds, so the kill lands mid-run (their text
            # layers would be read in milliseconds, the job done before the kill)
            force = {"ocr": "force"}
            running = client.post(
                "/api/v1/ocr/", files={"file": ("a.pdf", numbered_pdf(8))}, data=force
            ).json()
            queued = client.post(
                "/api/v1/ocr/", files={"file": ("b.pdf", numbered_pdf(6))}, data=force
            ).json()
            url = f"/api/v1/ocr/{running['uuid']}/"
            mid_run = poll(client, url, lambda job: job["progress"]["pages_done"] >= 2)
            assert mid_run["status"] == "processing"
            server.kill()
    finally:
        server.kill()

    with stopped_server_backend(data_dir) as left:
        statuses = [left.jobs.get_job(job["uuid"]) for job in (running, queued)]
        assert [job.status if job else None for job in statuses] == [
            JobStatus.PROCESSING,
            JobStatus.PENDING,
        ]
        assert len(left.storage.finished_pages(running["uuid"])) >= 2

    with (
        LiveServer(data_dir, workers=2) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=60) as client,
    ):
        for job, pages in ((running, 8), (queued, 6)):
            done = poll(client, f"/api/v1/ocr/{job['uuid']}/", lambda j: j["status"] == "done")
            assert done["status"] == "done", done
            assert done["page_count"] == pages
            for n, page in enumerate(done["pages"], start=1):
                assert f"Page {n} of the quarterly report" in page["text"]
    with stopped_server_backend(data_dir) as left:
        assert left.storage.uploads_held() == []


def test_a_job_interrupted_too_often_fails_with_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    (token,) = make_accounts(settings, "alice")
    uuid = "0f0e0d0c-0000-4000-8000-000000000001"
    with stopped_server_backend(settings.data_dir) as left:
        account = left.accounts.account_by_name("alice")
        left.storage.save_upload(uuid, io.BytesIO(numbered_pdf(6)))
        left.jobs.insert_job(
            JobRecord(
                uuid=uuid,
                account_id=account.id,
                status=JobStatus.PROCESSING,
                tier=Tier.CPU,
                language="eng",
                format="pdf",
                page_count=6,
                created_at=left.jobs.clock(),
                interruptions=MAX_INTERRUPTIONS - 1,
            )
        )

    with TestClient(create_app(settings)) as client:
        job = client.get(f"/api/v1/ocr/{uuid}/", headers={"Authorization": f"Bearer {token}"})
        assert not backend_of(client).storage.has_upload(uuid)

    assert job.json()["status"] == "failed"
    assert job.json()["error"] == (
        f"The server stopped {MAX_INTERRUPTIONS} times while this job ran, "
        "so it was not started again."
    )


def worker_pids(server_pid: int) -> list[int]:
    """The pool's worker processes (not multiprocessing's resource tracker)."""
    return [
        pid
        for pid in child_pids(server_pid)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


@contextmanager
def live_server(tmp_path: Path) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A real server with 2 workers, and a client with Alice's token."""
    data_dir = tmp_path / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "alice")
    with (
        LiveServer(data_dir, workers=2) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client,
    ):
        yield server, client


def test_a_worker_killed_mid_page_does_not_lose_the_job(tmp_path: Path) -> None:
    with live_server(tmp_path) as (server, client):
        # ocr=force: OCRed pages take seconds, so the kill lands mid-page (a text layer
        # would be read in milliseconds)
        job = client.post(
            "/api/v1/ocr/", files={"file": ("a.pdf", numbered_pdf(8))}, data={"ocr": "force"}
        ).json()
        url = f"/api/v1/ocr/{job['uuid']}/"
        poll(client, url, lambda j: j["progress"]["pages_done"] >= 1)
        assert server.process is not None
        victims = worker_pids(server.process.pid)
        assert len(victims) == 2
        os.kill(victims[0], signal.SIGKILL)

        done = poll(client, url, lambda j: j["status"] in ("done", "failed"))
        assert done["status"] == "done", done
        for n, page in enumerate(done["pages"], start=1):
            assert f"Page {n} of the quarterly report" in page["text"]
        # a fresh pool serves the next job
        assert worker_pids(server.process.pid) != victims
        small = client.post("/api/v1/ocr/", files={"file": ("b.pdf", numbered_pdf(1))}).json()
        assert small["status"] == "done"
    assert "a worker process died" in server.log.read_text()


def test_a_worker_that_dies_while_idle_does_not_stop_the_queue(tmp_path: Path) -> None:
    """A worker killed between jobs leaves a broken pool that refuses new work; the next
    job still runs (it once stayed processing for ever)."""
    with live_server(tmp_path) as (server, client):
        first = client.post("/api/v1/ocr/", files={"file": ("a.pdf", numbered_pdf(1))}).json()
        assert first["status"] == "done"
        assert server.process is not None
        victims = worker_pids(server.process.pid)
        os.kill(victims[0], signal.SIGKILL)
        time.sleep(1)  # the pool's manager notices the death

        job = client.post("/api/v1/ocr/", files={"file": ("b.pdf", numbered_pdf(8))}).json()
        done = poll(
            client,
            f"/api/v1/ocr/{job['uuid']}/",
            lambda j: j["status"] != "pending" and j["status"] != "processing",
            timeout=120,
        )
        assert done["status"] == "done", done
        assert len(done["pages"]) == 8


def test_the_workers_die_with_a_killed_server(tmp_path: Path) -> None:
    """SIGKILL to the server alone (not its process group), as the OOM killer sends it: its
    workers must not live on beside the next server's, a gigabyte each."""
    with live_server(tmp_path) as (server, client):
        job = client.post("/api/v1/ocr/", files={"file": ("a.pdf", numbered_pdf(1))}).json()
        assert job["status"] == "done"
        assert server.process is not None
        workers = worker_pids(server.process.pid)
        assert workers
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in workers):
            assert time.monotonic() < deadline, "the workers outlived their server"
            time.sleep(0.1)


def running(pid: int) -> bool:
    """Whether process ``pid`` is alive (a zombie, dead but not reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
