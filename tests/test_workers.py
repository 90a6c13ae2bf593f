"""Worker processes are replaced after a number of pages, or when they outgrow their memory
budget, without a page lost: the workaround users of every OCR server ask for."""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ocrchat.models import JobStatus, Tier
from ocrchat_server.app import create_app
from ocrchat_server.jobs.assembly import JobFinisher
from ocrchat_server.jobs.backends import open_backend
from ocrchat_server.jobs.embedded.process_pool import ProcessPoolQueue, _retire
from ocrchat_server.jobs.records import JobRecord
from ocrchat_server.settings import Settings
from tests.conftest import MovableClock, Server
from tests.documents import numbered_pdf
from tests.live import make_accounts
from tests.test_api import submit


@contextmanager
def server_with(tmp_path: Path, **options: int) -> Iterator[Server]:
    settings = Settings(data_dir=tmp_path / "data", workers=1, **options)  # type: ignore[arg-type]
    alice, bob = make_accounts(settings, "alice", "bob")
    clock = MovableClock()
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Server(client=client, settings=settings, clock=clock, alice=alice, bob=bob)


def read_all_pages(server: Server, pages: int) -> None:
    job = submit(server, numbered_pdf(pages), "report.pdf", ocr="force").json()
    assert job["status"] == "done", job.get("error")
    for n, page in enumerate(job["pages"], start=1):
        assert f"Page {n} of the quarterly report." in page["text"]


def workers() -> set[int]:
    return {process.pid for process in multiprocessing.active_children() if process.pid}


def test_a_worker_is_replaced_after_its_pages(tmp_path: Path) -> None:
    with server_with(tmp_path, worker_max_pages=2) as server:
        read_all_pages(server, 1)
        first = workers()
        assert first
        read_all_pages(server, 2)  # the first worker's second page is its last
        assert workers() - first  # a fresh worker read the last page


def test_workers_over_their_memory_budget_are_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a budget no worker keeps: every page ends with fresh workers, and no page is lost
    with caplog.at_level(logging.INFO), server_with(tmp_path, worker_max_rss_mb=1) as server:
        read_all_pages(server, 3)
        read_all_pages(server, 1)
    assert any("over its budget" in record.getMessage() for record in caplog.records)


def test_an_account_at_its_cap_reads_one_page_at_a_time_and_keeps_its_worker(
    tmp_path: Path,
) -> None:
    """``pages_in_flight_per_account=1`` on 2 workers: Alice's and Bob's 3-page jobs are
    read one page of each at a time. When a page is done, its account's next page is
    ready at once, so the count the workers share out their cores by stays at 2: the
    other worker must not widen onto the core that page takes (c207b2f counted the
    account as still at its cap there, and let it)."""
    settings = Settings(data_dir=tmp_path / "data", workers=2, pages_in_flight_per_account=1)
    make_accounts(settings, "alice", "bob")
    backend = open_backend(settings)
    records = []
    for name in ("alice", "bob"):
        record = JobRecord(
            uuid=str(uuid.uuid4()),
            account_id=backend.accounts.account_by_name(name).id,
            status=JobStatus.PENDING,
            tier=Tier.CPU,
            language="eng",
            format="pdf",
            page_count=3,
            created_at=backend.jobs.clock(),
        )
        backend.storage.save_upload(record.uuid, io.BytesIO(numbered_pdf(3)))
        backend.storage.prepare_results(record.uuid)
        backend.jobs.insert_job(record)
        records.append(record)
    queue = ProcessPoolQueue(
        jobs=backend.jobs,
        storage=backend.storage,
        finisher=JobFinisher.configured(
            settings, jobs=backend.jobs, charges=backend.charges, storage=backend.storage
        ),
        workers=2,
        pages_in_flight_per_account=1,
    )

    async def read_both() -> None:
        for record in records:
            queue.enqueue(record)
        active = [queue._jobs[record.uuid] for record in records]
        queue._pool = queue._new_pool()
        try:
            # the queue's own loop, one step at a time, to look between the steps
            while not all(job.finished.is_set() for job in active):
                queue._fill_pool()
                assert all(job.in_flight <= 1 for job in active)
                await asyncio.wait(set(queue._tasks), return_when=asyncio.FIRST_COMPLETED)
                if all(job.remaining for job in active):
                    assert queue._pages_in_flight.value == 2
        finally:
            _retire(queue._pool)

    try:
        asyncio.run(asyncio.wait_for(read_both(), timeout=120))
        for record in records:
            job = backend.jobs.get_job(record.uuid)
            assert job is not None
            assert job.status is JobStatus.DONE, job.error
            pages = list(backend.storage.iter_pages(record.uuid))
            assert [page.text.splitlines()[0] for page in pages] == [
                f"Page {n} of the quarterly report." for n in (1, 2, 3)
            ]
    finally:
        backend.close()
