"""Worker processes are replaced after a number of pages, or when they outgrow their memory
budget, without a page lost: the workaround users of every OCR server ask for."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ocrchat_server.app import create_app
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
