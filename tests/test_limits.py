"""Rate limits per account, in both modes: requests per minute and pages queued at once
answer 429 with ``Retry-After``, charge nothing, and leave other accounts alone
(issue 14). In the scale-out mode the request windows live in the broker's Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrchat_server.settings import Settings
from tests.conftest import Server
from tests.documents import numbered_pdf
from tests.test_api import API, assert_error, submit

_REQUESTS = 12
_QUEUED = 10


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Small limits, so that a test reaches them (this module's ``any_server`` uses it)."""
    return Settings(
        data_dir=tmp_path / "data",
        workers=1,
        max_upload_bytes=8 * 1024 * 1024,
        requests_per_minute=_REQUESTS,
        queued_pages_per_account=_QUEUED,
    )


def test_an_account_over_its_requests_per_minute_gets_429(any_server: Server) -> None:
    server = any_server
    answers = [
        server.client.get("/api/v1/account/", headers=server.headers()) for _ in range(_REQUESTS)
    ]
    assert all(answer.status_code == 200 for answer in answers)
    refused = server.client.get("/api/v1/account/", headers=server.headers())
    body = assert_error(refused, 429, "rate_limited")
    assert str(_REQUESTS) in body["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # another account is not touched
    other = server.client.get("/api/v1/account/", headers=server.headers(server.bob))
    assert other.status_code == 200


def test_a_file_over_the_queued_pages_cap_gets_429_and_costs_nothing(
    any_server: Server,
) -> None:
    server = any_server
    before = server.client.get("/api/v1/account/", headers=server.headers()).json()["usage"]
    refused = submit(server, numbered_pdf(_QUEUED + 1), "big.pdf")
    body = assert_error(refused, 429, "too_many_queued_pages")
    assert body["cap"] == _QUEUED
    assert int(refused.headers["Retry-After"]) > 0
    after = server.client.get("/api/v1/account/", headers=server.headers()).json()["usage"]
    assert after == before
    # within the cap it is taken
    accepted = submit(server, numbered_pdf(_QUEUED), "fits.pdf")
    assert accepted.status_code in (200, 202), accepted.text
    job = server.client.get(f"{API}{accepted.json()['uuid']}/", headers=server.headers())
    assert job.json()["page_count"] == _QUEUED
