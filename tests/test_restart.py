"""Jobs survive the server: killed mid-run, they resume from the pages not yet done."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from ocrchat.models import JobStatus
from ocrchat_server.app import create_app
from ocrchat_server.jobs.runner import MAX_INTERRUPTIONS
from ocrchat_server.jobs.store import JobRecord, JobStore
from ocrchat_server.settings import Settings
from tests.documents import numbered_pdf
from tests.live import LiveServer, child_pids, make_accounts


def poll(client: httpx.Client, url: str, until: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(url).json()
        if until(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def status_in_db(data_dir: Path, uuid: str) -> str:
    with sqlite3.connect(data_dir / "ocrchat.sqlite3") as db:
        return str(db.execute("SELECT status FROM jobs WHERE uuid = ?", (uuid,)).fetchone()[0])


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

    assert status_in_db(data_dir, running["uuid"]) == "processing"
    assert status_in_db(data_dir, queued["uuid"]) == "pending"
    pages_kept = len(list((data_dir / "results" / running["uuid"] / "pages").glob("*.json")))
    assert pages_kept >= 2

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
    assert list((data_dir / "uploads").iterdir()) == []


def test_a_job_interrupted_too_often_fails_with_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    (token,) = make_accounts(settings, "alice")
    store = JobStore(settings.database)
    account = store.account_by_name("alice")
    upload = settings.data_dir / "uploads" / "0f0e0d0c-0000-4000-8000-000000000001"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(numbered_pdf(6))
    store.insert_job(
        JobRecord(
            uuid=upload.name,
            account_id=account.id,
            status=JobStatus.PROCESSING,
            tier="cpu",
            language="eng",
            format="pdf",
            page_count=6,
            created_at=store.clock(),
            interruptions=MAX_INTERRUPTIONS - 1,
        )
    )
    store.close()

    with TestClient(create_app(settings)) as client:
        job = client.get(
            f"/api/v1/ocr/{upload.name}/", headers={"Authorization": f"Bearer {token}"}
        )

    assert job.json()["status"] == "failed"
    assert job.json()["error"] == (
        f"The server stopped {MAX_INTERRUPTIONS} times while this job ran, "
        "so it was not started again."
    )
    assert not upload.exists()


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
