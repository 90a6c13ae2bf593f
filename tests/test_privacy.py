"""Uploads vanish when their job ends; results expire; DELETE removes everything at once."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from tests.conftest import Server
from tests.documents import image_bytes, numbered_pdf, render_page
from tests.test_api import API, assert_error, submit, wait_until_finished

ROUNDS = 6
PAGE = image_bytes(render_page([["Confidential memo for the board"]]), "PNG")


def test_the_upload_is_deleted_once_the_job_is_done(server: Server) -> None:
    job = submit(server, numbered_pdf(7)).json()
    storage = server.backend.storage
    assert storage.uploads_held() == [job["uuid"]]  # queued: still needed
    assert wait_until_finished(server, job["uuid"])["status"] == "done"
    assert storage.uploads_held() == []
    # what is kept is the result alone: no page's result or PDF
    assert storage.finished_pages(job["uuid"]) == set()
    assert not storage.page_pdf(job["uuid"], 0).exists()
    assert storage.document_pdf(job["uuid"]).exists()
    assert storage.read_result(job["uuid"]).text


def test_the_upload_is_deleted_when_the_job_fails(server: Server) -> None:
    # A JPEG whose header is whole (so it is accepted) but whose pixels are cut off.
    broken = image_bytes(render_page([["x"]]), "JPEG")
    broken = broken[: len(broken) // 3]
    response = submit(server, broken, "cut.jpg")
    job = response.json()
    assert response.status_code == 200
    assert job["status"] == "failed"
    assert job["error"] == "Page 1 could not be decoded."
    assert job["text"] is None
    storage = server.backend.storage
    assert storage.uploads_held() == []
    assert storage.finished_pages(job["uuid"]) == set()
    assert not storage.document_pdf(job["uuid"]).exists()


def test_delete_removes_the_job_and_its_files(server: Server) -> None:
    job = submit(server, PAGE).json()
    url = f"{API}{job['uuid']}/"
    response = server.client.delete(url, headers=server.headers())
    assert response.status_code == 200
    assert response.json() == {"uuid": job["uuid"], "deleted": True, "refunded": 0}
    assert_error(server.client.get(url, headers=server.headers()), 404, "not_found")
    assert not server.backend.storage.has_results(job["uuid"])
    assert_error(server.client.delete(url, headers=server.headers()), 404, "not_found")


def test_delete_stops_a_running_job(server: Server) -> None:
    job = submit(server, numbered_pdf(9)).json()
    server.client.delete(f"{API}{job['uuid']}/", headers=server.headers())
    other = submit(server, PAGE).json()  # the pool is free for others afterwards
    assert other["status"] == "done"
    services = server.client.app.state.services  # type: ignore[attr-defined]
    assert not services.queue.is_active(job["uuid"])
    assert not services.backend.storage.has_upload(job["uuid"])
    assert services.backend.jobs.get_job(job["uuid"]) is None


def test_jobs_beside_deleted_ones_still_finish(server: Server) -> None:
    """Deleting a running job stops the workers reading its pages. The pages other jobs
    have in the pool then, or are given right after, must still come back: a worker that
    finished its page while being stopped once took a neighbour's page down with it, and
    that job waited for ever (pebble issue #153). Text-layer pages are read in
    milliseconds, so workers finish pages all the time while others are stopped."""

    def bobs_job(uuid: str) -> dict[str, Any]:
        response = server.client.get(f"{API}{uuid}/", headers=server.headers(server.bob))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    neighbours: list[str] = []
    for _ in range(ROUNDS):
        # Bob's job shares the workers with Alice's (accounts take turns), so some of its
        # pages are in the pool, or sent to it, while Alice's are being stopped
        doomed = submit(server, numbered_pdf(30)).json()
        neighbours.append(submit(server, numbered_pdf(6), token=server.bob).json()["uuid"])
        deleted = server.client.delete(f"{API}{doomed['uuid']}/", headers=server.headers())
        assert deleted.status_code == 200, deleted.text
        inline = submit(server, PAGE).json()  # answered in its request, whatever is queued
        assert inline["status"] == "done", inline
        assert "Confidential memo" in inline["text"]
    deadline = time.monotonic() + 120
    for uuid in neighbours:
        while (job := bobs_job(uuid))["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        assert job["status"] == "done", job
        assert "Page 6 of the quarterly report" in job["text"]
    services = server.client.app.state.services  # type: ignore[attr-defined]
    assert services.backend.storage.uploads_held() == []


def test_results_expire_after_the_retention_time(server: Server) -> None:
    job = submit(server, PAGE).json()
    finished = dt.datetime.fromisoformat(job["finished_at"])
    assert dt.datetime.fromisoformat(job["expires_at"]) == finished + dt.timedelta(days=7)
    services = server.client.app.state.services  # type: ignore[attr-defined]
    url = f"{API}{job['uuid']}/"

    server.clock.advance(dt.timedelta(days=6, hours=23))
    assert services.jobs.expire() == 0
    assert server.client.get(url, headers=server.headers()).status_code == 200

    server.clock.advance(dt.timedelta(hours=1))
    assert services.jobs.expire() == 1
    assert_error(server.client.get(url, headers=server.headers()), 404, "not_found")
    assert not server.backend.storage.has_results(job["uuid"])
