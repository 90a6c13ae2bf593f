"""The scale-out mode on real servers: PostgreSQL and Redis on loopback, two API server
processes and three Celery worker processes, sharing one storage directory."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import redis

from ocrchat_server.jobs.backends import open_backend
from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore
from ocrchat_server.settings import Settings
from tests.conftest import MovableClock, ScaleOutServers, started
from tests.documents import image_bytes, numbered_pdf, render_page
from tests.live import LiveServer, WorkerProcess
from tests.servers import PostgresServer, RedisServer
from tests.test_api import submit, wait_until_finished

pytestmark = pytest.mark.timeout(600)

# Tesseract alone on forced OCR: pages take a moment (so a worker can be killed mid-job)
# but not PP-OCRv6's seconds, on a two-core machine running five processes
READ = {"ocr": "force", "engine": "tesseract", "language": "eng"}


@attrs.frozen
class Cluster:
    settings: Settings
    servers: list[LiveServer]
    workers: list[WorkerProcess]
    token: str
    other_token: str
    """Bob's, another account on the same plan."""
    logs: Path

    def client(self, server: int, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.servers[server].url,
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=180,
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("scaleout")
    with PostgresServer() as postgres, RedisServer() as redis:
        settings = Settings(
            data_dir=base / "data",
            database_url=postgres.url,
            broker_url=redis.url,
            storage=base / "shared",
        )
        upgraded = subprocess.run(
            [
                sys.executable,
                "-m",
                "ocrchat_server",
                "db",
                "upgrade",
                "--database-url",
                postgres.url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert upgraded.returncode == 0, upgraded.stderr
        assert "0001_initial" in upgraded.stdout
        backend = open_backend(settings)
        try:
            _, token = backend.accounts.create_account("alice", plan="pro")
            _, other_token = backend.accounts.create_account("bob", plan="pro")
        finally:
            backend.close()
        scale_args = [
            "--database-url",
            postgres.url,
            "--broker-url",
            redis.url,
            "--storage",
            str(settings.storage),
        ]
        servers = [
            LiveServer(base / f"api{n}", workers=1, log=base / f"api{n}.log", extra_args=scale_args)
            for n in range(2)
        ]
        workers = [WorkerProcess(settings, base / f"worker{n}.log") for n in range(3)]
        try:
            for server in servers:
                server.start()
            for worker in workers:
                worker.start()
            yield Cluster(settings, servers, workers, token, other_token, base)
        finally:
            for worker in workers:
                worker.stop()
            for server in servers:
                server.stop()


def wait_done(client: httpx.Client, uuid: str, timeout: float = 400) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/v1/ocr/{uuid}/").json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def test_jobs_through_two_servers_survive_a_killed_worker(cluster: Cluster) -> None:
    first, second = cluster.client(0), cluster.client(1)
    submitted: list[tuple[str, int]] = []
    for n, pages in enumerate((12, 1, 12, 1, 1)):
        through = (first, second)[n % 2]
        response = through.post(
            "/api/v1/ocr/", files={"file": (f"f{n}.pdf", numbered_pdf(pages))}, data=READ
        )
        assert response.status_code in (200, 202), response.text
        body = response.json()
        if pages == 1:  # a small file comes back done in its POST, as in the embedded mode
            assert response.status_code == 200
            assert body["status"] == "done", body
        submitted.append((body["uuid"], pages))

    # a worker's process group killed mid-job; a new one takes its place
    long_job = submitted[0][0]
    deadline = time.monotonic() + 300
    while second.get(f"/api/v1/ocr/{long_job}/").json()["progress"]["pages_done"] < 2:
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.3)
    cluster.workers[0].kill()
    replacement = WorkerProcess(cluster.settings, cluster.logs / "worker3.log").start()
    cluster.workers.append(replacement)

    for n, (uuid, pages) in enumerate(submitted):
        other = (second, first)[n % 2]  # read through the server it was not sent to
        job = wait_done(other, uuid)
        assert job["status"] == "done", job
        assert [page["index"] for page in job["pages"]] == list(range(pages))
        for number, page in enumerate(job["pages"], start=1):
            assert f"Page {number} of the quarterly report" in page["text"]
        assert other.get(
            f"/api/v1/ocr/{uuid}/download/", params={"format": "pdf"}
        ).content.startswith(b"%PDF")

    # charged exactly once, whatever was delivered twice (the month's usage: these servers
    # run on the real clock, and a run across midnight UTC starts a new day)
    usage = first.get("/api/v1/account/").json()["usage"]
    assert usage["month"] == sum(pages for _, pages in submitted)

    # deleted through either server, gone on both
    for n, (uuid, _) in enumerate(submitted):
        deleting, other = ((first, second), (second, first))[n % 2]
        assert deleting.delete(f"/api/v1/ocr/{uuid}/").json()["deleted"] is True
        assert other.get(f"/api/v1/ocr/{uuid}/").status_code == 404


def test_delete_of_a_running_job_stops_its_pages_and_refunds_them(cluster: Cluster) -> None:
    client = cluster.client(0)
    before = client.get("/api/v1/account/").json()["usage"]["month"]
    job = client.post(
        "/api/v1/ocr/", files={"file": ("long.pdf", numbered_pdf(30))}, data=READ
    ).json()
    uuid = job["uuid"]
    while client.get(f"/api/v1/ocr/{uuid}/").json()["progress"]["pages_done"] < 1:
        time.sleep(0.3)
    deleted = cluster.client(1).delete(f"/api/v1/ocr/{uuid}/").json()
    assert deleted["refunded"] > 10
    after = client.get("/api/v1/account/").json()["usage"]["month"]
    assert after == before + 30 - deleted["refunded"]
    # the workers go on to other work: a one-page job is done in its POST
    small = client.post(
        "/api/v1/ocr/", files={"file": ("one.pdf", numbered_pdf(1))}, data=READ
    ).json()
    assert small["status"] == "done"


def test_a_long_job_does_not_hold_back_another_accounts_pages(cluster: Cluster) -> None:
    alice, bob = cluster.client(0), cluster.client(1, cluster.other_token)
    long_job = alice.post(
        "/api/v1/ocr/", files={"file": ("long.pdf", numbered_pdf(48))}, data=READ
    ).json()
    while alice.get(f"/api/v1/ocr/{long_job['uuid']}/").json()["progress"]["pages_done"] < 1:
        time.sleep(0.2)
    # 6 pages: queued, not read in the request (a small file's would go first anyway)
    short_job = bob.post(
        "/api/v1/ocr/", files={"file": ("short.pdf", numbered_pdf(6))}, data=READ
    ).json()
    assert short_job["status"] in ("pending", "processing")
    assert wait_done(bob, short_job["uuid"])["status"] == "done"
    # its pages went between the long job's, not after all of them
    progress = alice.get(f"/api/v1/ocr/{long_job['uuid']}/").json()["progress"]
    assert progress["pages_done"] < 40, progress
    assert wait_done(alice, long_job["uuid"])["status"] == "done"


def test_a_page_that_cannot_be_read_fails_its_job_and_refunds_it(cluster: Cluster) -> None:
    client = cluster.client(1)
    before = client.get("/api/v1/account/").json()["usage"]["month"]
    broken = image_bytes(render_page([["x"]]), "JPEG")
    job = client.post(
        "/api/v1/ocr/", files={"file": ("cut.jpg", broken[: len(broken) // 3])}
    ).json()
    assert job["status"] == "failed"
    assert job["error"] == "Page 1 could not be decoded."
    assert client.get("/api/v1/account/").json()["usage"]["month"] == before


_CLAIM_AND_DIE = """
import os, signal, sys
from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore
store = PostgresStore(sys.argv[1])
with store.claiming_pages_to_send(sys.argv[2], 1) as positions:
    print(positions, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # between the claim and the send
"""


def test_a_page_claimed_by_a_process_killed_before_sending_it_is_claimed_again(
    scale_out_servers: ScaleOutServers, settings: Settings, clock: MovableClock, tmp_path: Path
) -> None:
    """A worker killed after it marked a page sent but before Redis had it once left that
    page never sent, and its job processing for ever: the mark must die with it."""
    number = next(scale_out_servers.numbers)
    database_url = scale_out_servers.postgres.create_database(f"claims{number}")
    settings = attrs.evolve(
        settings,
        database_url=database_url,
        broker_url=scale_out_servers.redis.fresh_database(number),
        storage=tmp_path / "shared",
        pages_in_flight_per_job=2,
    )
    with started(settings, clock) as server:  # no worker: the pages sent wait in Redis
        response = submit(server, numbered_pdf(8), "report.pdf")
        assert response.status_code == 202, response.text
        uuid = response.json()["uuid"]
        died = subprocess.run(
            [sys.executable, "-c", _CLAIM_AND_DIE, database_url, uuid],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert died.returncode == -signal.SIGKILL, died.stderr
        assert died.stdout.strip() == "[2]"  # the third page: the first two were sent
        store = PostgresStore(database_url)
        try:
            with store.claiming_pages_to_send(uuid, 1) as positions:
                assert positions == [2]
        finally:
            store.close()


def test_pages_the_broker_refused_are_sent_once_it_takes_them(
    scale_out_servers: ScaleOutServers, settings: Settings, clock: MovableClock, tmp_path: Path
) -> None:
    """A send Redis refused (unreachable, or out of memory) once lost a page for good: the
    worker that read a page and could not send the job's next one left none of the job in
    the broker, and the job processing for ever; a refused send at submit was a 500.

    Here Redis's own access lists refuse the sends (kombu sends a page with ``LPUSH``):
    every one of the worker's, and the API server's until the test allows them."""
    number = next(scale_out_servers.numbers)
    broker_url = scale_out_servers.redis.fresh_database(number)
    admin = redis.Redis.from_url(broker_url)
    api_user, worker_user = f"api{number}", f"worker{number}"
    for user in (api_user, worker_user):
        admin.acl_setuser(
            user,
            enabled=True,
            passwords=[f"+{user}"],
            keys=["*"],
            channels=["*"],
            commands=["+@all", "-lpush"],
        )

    def as_user(user: str) -> str:
        return broker_url.replace("redis://", f"redis://{user}:{user}@")

    settings = attrs.evolve(
        settings,
        database_url=scale_out_servers.postgres.create_database(f"refused{number}"),
        broker_url=as_user(api_user),
        storage=tmp_path / "shared",
        pages_in_flight_per_job=2,
        sweep_interval=dt.timedelta(seconds=0.5),
    )
    worker_log = tmp_path / "worker.log"
    worker = WorkerProcess(attrs.evolve(settings, broker_url=as_user(worker_user)), worker_log)
    worker.start()
    try:
        with started(settings, clock) as server:
            # one page (read in its request when the broker takes it) and six (queued)
            submitted = [submit(server, numbered_pdf(pages), "r.pdf") for pages in (1, 6)]
            for response in submitted:
                assert response.status_code == 202, response.text
                assert response.json()["status"] == "pending"
            time.sleep(2)
            for response in submitted:
                uuid = response.json()["uuid"]
                job = server.client.get(f"/api/v1/ocr/{uuid}/", headers=server.headers())
                assert job.json()["status"] == "pending"

            admin.acl_setuser(api_user, enabled=True, commands=["+lpush"])  # the broker is back
            for response, pages in zip(submitted, (1, 6), strict=True):
                job = wait_until_finished(server, response.json()["uuid"], timeout=180)
                assert job["status"] == "done", job
                texts = [page["text"] for page in job["pages"]]
                assert len(texts) == pages
                for n, text in enumerate(texts, start=1):
                    assert f"Page {n} of the quarterly report" in text
    finally:
        worker.stop()
    # every one of the six-page job's pages after its first two was sent by the sweep
    assert "the broker refused its next page" in worker_log.read_text()


def test_pages_the_broker_lost_are_sent_again(
    scale_out_servers: ScaleOutServers, settings: Settings, clock: MovableClock, tmp_path: Path
) -> None:
    """Pages Redis had taken and then lost (restarted without its data, or a replica that
    lacked the last writes took over) once left their job processing for ever: nothing
    in the broker would ever read them or send the job's next ones."""
    number = next(scale_out_servers.numbers)
    broker_url = scale_out_servers.redis.fresh_database(number)
    settings = attrs.evolve(
        settings,
        database_url=scale_out_servers.postgres.create_database(f"lost{number}"),
        broker_url=broker_url,
        storage=tmp_path / "shared",
        pages_in_flight_per_job=2,
        sweep_interval=dt.timedelta(seconds=0.5),
        page_visibility_timeout=dt.timedelta(seconds=2),
        page_timeout=dt.timedelta(seconds=2),
    )
    with started(settings, clock) as server:  # no worker yet: the pages sent wait in Redis
        response = submit(server, numbered_pdf(6), "report.pdf")
        assert response.status_code == 202, response.text
        uuid = response.json()["uuid"]
        assert redis.Redis.from_url(broker_url).flushdb()  # Redis loses its data
        worker = WorkerProcess(settings, tmp_path / "worker.log", visibility_timeout="2s")
        worker.start()
        try:
            job = wait_until_finished(server, uuid, timeout=180)
        finally:
            worker.stop()
    assert job["status"] == "done", job
    assert [page["index"] for page in job["pages"]] == list(range(6))
    for n, page in enumerate(job["pages"], start=1):
        assert f"Page {n} of the quarterly report" in page["text"]
