"""A real server for the SDK: in-process for the sync client, uvicorn for async and the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from ocrchat_server.settings import Settings
from tests.live import LiveServer, make_accounts


@attrs.frozen
class Live:
    server: LiveServer
    alice: str
    bob: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("sdk-live") / "data"
    alice, bob = make_accounts(Settings(data_dir=data_dir), "alice", "bob")
    with LiveServer(data_dir) as server:
        yield Live(server=server, alice=alice, bob=bob)
