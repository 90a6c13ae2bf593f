"""Fixtures: the real app on a temporary data dir, accounts with real tokens.

Tesseract and poppler are real here. When they are missing the suite fails
at once (it never skips): ``scripts/test`` installs them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest
from starlette.testclient import TestClient

from ocrchat_server.app import create_app
from ocrchat_server.jobs.interfaces import Backend
from ocrchat_server.settings import Settings
from tests.fake_surya import FakeSurya
from tests.live import LiveServer, WorkerProcess, backend_of, make_accounts
from tests.servers import PostgresServer, RedisServer


def pytest_sessionstart(session: pytest.Session) -> None:
    missing = [tool for tool in ("tesseract", "pdftoppm", "pdfinfo") if shutil.which(tool) is None]
    if missing:
        raise pytest.UsageError(
            f"missing {', '.join(missing)}: run scripts/test, which installs them "
            "(apt-get install tesseract-ocr-all poppler-utils)"
        )


class MovableClock:
    """A clock the test moves by hand, so expiry is tested without sleeping."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@attrs.frozen
class Server:
    """The app under test, started, with two accounts."""

    client: TestClient
    settings: Settings
    clock: MovableClock
    alice: str
    bob: str

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.alice}"}

    @property
    def backend(self) -> Backend:
        return backend_of(self.client)


@attrs.frozen
class Live:
    """A real ``ocrchat-server serve`` (uvicorn, 2 workers) with two accounts, for the session."""

    server: LiveServer
    alice: str
    bob: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("live") / "data"
    alice, bob = make_accounts(Settings(data_dir=data_dir), "alice", "bob")
    # the vlm tier's inference server: a stand-in that reads pages with Tesseract
    surya = FakeSurya().start()
    try:
        with LiveServer(data_dir, extra_args=["--vlm-url", surya.url]) as server:
            yield Live(server=server, alice=alice, bob=bob)
    finally:
        surya.stop()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", workers=2, max_upload_bytes=8 * 1024 * 1024)


@contextmanager
def started(settings: Settings, clock: MovableClock) -> Iterator[Server]:
    alice, bob = make_accounts(settings, "alice", "bob")
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Server(client=client, settings=settings, clock=clock, alice=alice, bob=bob)


@pytest.fixture
def server(settings: Settings, clock: MovableClock) -> Iterator[Server]:
    with started(settings, clock) as server:
        yield server


@attrs.frozen
class ScaleOutServers:
    """PostgreSQL and Redis for the session; each test gets its own database in each."""

    postgres: PostgresServer
    redis: RedisServer
    numbers: Iterator[int] = attrs.field(factory=itertools.count)


@pytest.fixture(scope="session")
def scale_out_servers() -> Iterator[ScaleOutServers]:
    with PostgresServer() as postgres, RedisServer() as redis:
        yield ScaleOutServers(postgres, redis)


@pytest.fixture(params=["embedded", "scale_out"])
def any_server(
    request: pytest.FixtureRequest, settings: Settings, clock: MovableClock, tmp_path: Path
) -> Iterator[Server]:
    """The app in either mode, so the API's behaviour is checked in both: embedded (its
    own worker processes), or scale-out (PostgreSQL, Redis, and a Celery worker process
    with two slots, on a fresh database of each)."""
    if request.param == "embedded":
        with started(settings, clock) as server:
            yield server
        return
    servers: ScaleOutServers = request.getfixturevalue("scale_out_servers")
    number = next(servers.numbers)
    settings = attrs.evolve(
        settings,
        database_url=servers.postgres.create_database(f"test{number}"),
        broker_url=servers.redis.fresh_database(number),
        storage=tmp_path / "shared",
    )
    worker = WorkerProcess(
        settings, tmp_path / "worker.log", concurrency=2, visibility_timeout="2m"
    ).start()
    try:
        with started(settings, clock) as server:
            yield server
    finally:
        worker.stop()
