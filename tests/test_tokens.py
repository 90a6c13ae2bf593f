"""An account's API tokens (listed, created, revoked) through the real app, the SDK and both
commands; and the web app's sessions in both stores: SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ocrchat
from ocrchat._cli import EXIT_ERROR, EXIT_NOT_FOUND
from ocrchat._cli import main as ocrchat_main
from ocrchat_server.app import Services
from ocrchat_server.cli import main as server_main
from ocrchat_server.jobs.accounts import MAX_TOKENS
from ocrchat_server.jobs.embedded.sqlite_store import SqliteStore
from ocrchat_server.jobs.errors import LastTokenError, TokenNotFoundError
from ocrchat_server.jobs.interfaces import Records
from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore
from ocrchat_server.jobs.tokens import key_id_of
from ocrchat_server.settings import Settings
from tests.conftest import Live, MovableClock, ScaleOutServers, Server
from tests.sdk.test_client import sdk

TOKENS = "/api/v1/account/tokens/"


def _services(client: Any) -> Services:
    services: Services = client.app.state.services
    return services


def _after_the_accounts(server: Server) -> None:
    """The fixtures' accounts and their tokens were made on the real clock: the test's
    clock moves past it, so that the tokens made now are the newest."""
    server.clock.now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)


def _key_ids(server: Server, token: str) -> list[str]:
    listed = server.client.get(TOKENS, headers=server.headers(token))
    assert listed.status_code == 200, listed.text
    return [entry["key_id"] for entry in listed.json()["tokens"]]


def test_a_new_token_works_and_a_revoked_one_does_not(any_server: Server) -> None:
    server = any_server
    _after_the_accounts(server)
    first = key_id_of(server.alice)
    (listed,) = server.client.get(TOKENS, headers=server.headers()).json()["tokens"]
    assert listed.keys() == {"key_id", "created_at"}
    assert listed["key_id"] == first
    assert dt.datetime.fromisoformat(listed["created_at"]) < server.clock.now

    created = server.client.post(TOKENS, headers=server.headers())
    assert created.status_code == 201, created.text
    body = created.json()
    second, token = body["key_id"], body["token"]
    assert key_id_of(token) == second
    assert dt.datetime.fromisoformat(body["created_at"]) == server.clock.now
    me = server.client.get("/api/v1/account/", headers=server.headers(token))
    assert me.json()["name"] == "alice"

    # newest first; a list shows key ids and times, never a token
    shown = server.client.get(TOKENS, headers=server.headers(token)).text
    assert _key_ids(server, token) == [second, first]
    assert token not in shown
    assert server.alice not in shown

    revoked = server.client.delete(f"{TOKENS}{first}/", headers=server.headers(token))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"key_id": first, "revoked": True}
    gone = server.client.get("/api/v1/account/", headers=server.headers(server.alice))
    assert gone.status_code == 401
    assert gone.json()["code"] == "invalid_token"
    assert server.client.get("/api/v1/account/", headers=server.headers(token)).status_code == 200
    assert _key_ids(server, token) == [second]


def test_the_last_token_and_another_accounts_token_cannot_be_revoked(
    any_server: Server,
) -> None:
    server = any_server
    alice = server.headers(server.alice)
    last = server.client.delete(f"{TOKENS}{key_id_of(server.alice)}/", headers=alice)
    assert last.status_code == 409
    assert last.json()["code"] == "last_token"

    # bob's key id is no key id of alice's: the same answer as one that does not exist
    server.client.post(TOKENS, headers=alice)
    for key_id in (key_id_of(server.bob), "0123456789ab", "not%20a%20key"):
        missing = server.client.delete(f"{TOKENS}{key_id}/", headers=alice)
        assert missing.status_code == 404, key_id
        assert missing.json()["code"] == "token_not_found"
    bob = server.client.get("/api/v1/account/", headers=server.headers(server.bob))
    assert bob.json()["name"] == "bob"
    assert len(_key_ids(server, server.alice)) == 2
    assert server.client.get(TOKENS).json()["code"] == "missing_token"


def test_an_account_holds_at_most_max_tokens(server: Server) -> None:
    """A token that makes tokens in a loop stops at the cap, with a clear 409; revoking
    one makes room again."""
    alice = server.headers(server.alice)
    for _ in range(MAX_TOKENS - 1):
        assert server.client.post(TOKENS, headers=alice).status_code == 201
    refused = server.client.post(TOKENS, headers=alice)
    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_tokens"
    assert refused.json()["cap"] == MAX_TOKENS
    assert len(_key_ids(server, server.alice)) == MAX_TOKENS
    spare = next(k for k in _key_ids(server, server.alice) if k != key_id_of(server.alice))
    assert server.client.delete(f"{TOKENS}{spare}/", headers=alice).status_code == 200
    assert server.client.post(TOKENS, headers=alice).status_code == 201


def test_the_sdk_lists_creates_and_revokes_tokens(server: Server) -> None:
    _after_the_accounts(server)
    client = sdk(server)
    (only,) = client.tokens()
    assert isinstance(only, ocrchat.ApiToken)
    assert only.key_id == key_id_of(server.alice)

    created = client.create_token()
    assert isinstance(created, ocrchat.NewApiToken)
    assert [token.key_id for token in client.tokens()] == [created.key_id, only.key_id]
    with sdk(server, created.token) as other:
        other.revoke_token(only.key_id)
        assert [token.key_id for token in other.tokens()] == [created.key_id]
        with pytest.raises(ocrchat.NotFoundError) as missing:
            other.revoke_token(only.key_id)
        assert missing.value.code == "token_not_found"
        with pytest.raises(ocrchat.APIStatusError) as last:
            other.revoke_token(created.key_id)
        assert (last.value.status_code, last.value.code) == (409, "last_token")
    with pytest.raises(ocrchat.AuthenticationError):
        client.tokens()


def _ocrchat(live: Live, token: str, *args: str) -> tuple[int, str]:
    env = {"OCRCHAT_BASE_URL": live.url, "OCRCHAT_API_TOKEN": token}
    result = CliRunner().invoke(ocrchat_main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout


def test_the_ocrchat_command_manages_tokens(live: Live) -> None:
    code, printed = _ocrchat(live, live.bob, "tokens", "create")
    assert code == 0
    token = printed.strip().splitlines()[-1]
    key_id = key_id_of(token)
    code, printed = _ocrchat(live, token, "tokens", "list")
    assert code == 0
    assert [line.split()[0] for line in printed.splitlines()][:2] == [key_id, key_id_of(live.bob)]

    assert _ocrchat(live, live.bob, "tokens", "revoke", key_id) == (0, f"{key_id}  revoked\n")
    assert _ocrchat(live, token, "account")[0] != 0
    assert _ocrchat(live, live.bob, "tokens", "revoke", key_id)[0] == EXIT_NOT_FOUND
    assert _ocrchat(live, live.bob, "tokens", "revoke", key_id_of(live.bob))[0] == EXIT_ERROR


def test_the_server_command_lists_and_revokes_tokens(tmp_path: Path) -> None:
    data_dir = ["--data-dir", str(tmp_path / "data")]
    runner = CliRunner()
    first = runner.invoke(server_main, ["accounts", "create", "carol", *data_dir])
    second = runner.invoke(server_main, ["tokens", "create", "carol", *data_dir])
    first_key, second_key = (key_id_of(r.output.strip().splitlines()[-1]) for r in (first, second))

    listed = runner.invoke(server_main, ["tokens", "list", "carol", *data_dir])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.output.splitlines()] == [second_key, first_key]
    revoked = runner.invoke(server_main, ["tokens", "revoke", "carol", first_key, *data_dir])
    assert revoked.exit_code == 0, revoked.output
    last = runner.invoke(server_main, ["tokens", "revoke", "carol", second_key, *data_dir])
    assert last.exit_code == 1
    assert "only API token" in last.output
    missing = runner.invoke(server_main, ["tokens", "revoke", "carol", first_key, *data_dir])
    assert "No API token with that key id" in missing.output
    nobody = runner.invoke(server_main, ["tokens", "list", "nobody", *data_dir])
    assert "No account named 'nobody'" in nobody.output


# --- web sessions, in each store ------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: MovableClock) -> Iterator[Records]:
    opened: Records
    if request.param == "sqlite":
        opened = SqliteStore(Settings(data_dir=tmp_path).database, clock=clock)
    else:
        servers: ScaleOutServers = request.getfixturevalue("scale_out_servers")
        url = servers.postgres.create_database(f"sessions{next(servers.numbers)}")
        opened = PostgresStore(url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def test_a_web_session_is_found_by_its_id_until_it_expires(
    store: Records, clock: MovableClock
) -> None:
    account, token = store.create_account("erin")
    expires_at = clock.now + dt.timedelta(hours=1)
    session_id, session = store.create_web_session(account.id, key_id_of(token), expires_at)
    assert (session.account_id, session.key_id) == (account.id, key_id_of(token))
    assert (session.created_at, session.expires_at) == (clock.now, expires_at)
    assert len(session.csrf_token) >= 32

    assert store.web_session(session_id, clock.now) == (account, session)
    assert store.web_session(session_id + "x", clock.now) is None
    assert store.web_session("", clock.now) is None
    almost = expires_at - dt.timedelta(seconds=1)
    assert store.web_session(session_id, almost) == (account, session)
    assert store.web_session(session_id, expires_at) is None

    other_id, _ = store.create_web_session(account.id, key_id_of(token), expires_at)
    assert other_id != session_id
    store.end_web_session(other_id)
    assert store.web_session(other_id, clock.now) is None
    assert store.web_session(session_id, clock.now) is not None
    store.end_web_session(other_id)  # again: nothing happens


def test_revoking_its_token_ends_a_web_session(store: Records, clock: MovableClock) -> None:
    account, first = store.create_account("erin")
    second = store.add_token(account.id)
    later = clock.now + dt.timedelta(hours=1)
    by_first, _ = store.create_web_session(account.id, key_id_of(first), later)
    by_second, _ = store.create_web_session(account.id, second.key_id, later)

    store.revoke_token(account.id, key_id_of(first))
    assert store.web_session(by_first, clock.now) is None
    assert store.web_session(by_second, clock.now) is not None
    with pytest.raises(LastTokenError):
        store.revoke_token(account.id, second.key_id)
    assert store.web_session(by_second, clock.now) is not None


def test_a_web_session_needs_a_token_of_its_account(store: Records, clock: MovableClock) -> None:
    erin, _ = store.create_account("erin")
    _, franks = store.create_account("frank")
    later = clock.now + dt.timedelta(hours=1)
    for key_id in (key_id_of(franks), "0123456789ab"):
        with pytest.raises(TokenNotFoundError):
            store.create_web_session(erin.id, key_id, later)
        with pytest.raises(TokenNotFoundError):
            store.revoke_token(erin.id, key_id)


def test_expired_web_sessions_are_swept(store: Records, clock: MovableClock) -> None:
    account, token = store.create_account("erin")
    key_id = key_id_of(token)
    soon, later = (clock.now + dt.timedelta(hours=hours) for hours in (1, 2))
    first, _ = store.create_web_session(account.id, key_id, soon)
    second, _ = store.create_web_session(account.id, key_id, soon)
    third, _ = store.create_web_session(account.id, key_id, later)

    assert store.expire_web_sessions(clock.now) == 0
    assert store.expire_web_sessions(soon) == 2
    assert store.expire_web_sessions(soon) == 0
    # the sweep deleted them: an earlier time does not bring them back
    assert store.web_session(first, clock.now) is None
    assert store.web_session(second, clock.now) is None
    assert store.web_session(third, soon) is not None


def test_the_account_service_starts_sessions_for_its_ttl(server: Server) -> None:
    accounts = _services(server.client).accounts
    alice = accounts.authenticate(server.alice)
    assert alice is not None
    assert accounts.web_session_ttl == dt.timedelta(hours=12)
    session_id, session = accounts.start_web_session(alice, key_id_of(server.alice))
    assert session.expires_at == server.clock.now + dt.timedelta(hours=12)
    assert accounts.web_session(session_id) == (alice, session)

    server.clock.advance(dt.timedelta(hours=12))
    assert accounts.web_session(session_id) is None
    assert accounts.expire_web_sessions() == 1
    again, _ = accounts.start_web_session(alice, key_id_of(server.alice))
    accounts.end_web_session(again)
    assert accounts.web_session(again) is None
    with pytest.raises(TokenNotFoundError):
        accounts.start_web_session(alice, key_id_of(server.bob))
