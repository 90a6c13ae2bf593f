"""``GET /api/v1/ocr/``: the account's jobs, newest first, a page at a time, in both modes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import Server
from tests.documents import numbered_pdf
from tests.test_api import API, assert_error, submit


@pytest.fixture
def server(any_server: Server) -> Server:
    return any_server


def _list(server: Server, token: str | None = None, **query: str) -> Any:
    return server.client.get(API, params=query, headers=server.headers(token))


def _all(server: Server, limit: int) -> list[str]:
    uuids: list[str] = []
    cursor = None
    while True:
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        body = _list(server, **query).json()
        uuids += [job["uuid"] for job in body["jobs"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return uuids


def test_jobs_are_listed_newest_first_through_cursors(server: Server) -> None:
    made = []
    for n in range(7):
        made.append(submit(server, numbered_pdf(1), f"report-{n}.pdf").json()["uuid"])
        server.clock.advance(dt.timedelta(seconds=1))
    failed = submit(server, b"%PDF-1.7 nothing else", "broken.pdf")
    assert failed.status_code == 400  # refused: no job, not listed

    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        response = _list(server, **query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["jobs"]) <= 3
        seen += body["jobs"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [job["uuid"] for job in seen] == made[::-1]
    first = seen[0]
    assert first["status"] == "done"
    assert first["filename"] == "report-6.pdf"
    assert first["progress"] == {"pages_done": 1, "pages_total": 1}
    # a summary: no pages, text or Markdown
    assert not {"pages", "text", "markdown"} & set(first)


def test_the_list_filters_by_status_and_shows_only_the_callers_jobs(server: Server) -> None:
    mine = submit(server, numbered_pdf(1), "mine.pdf").json()["uuid"]
    submit(server, numbered_pdf(1), "bobs.pdf", token=server.bob)

    done = _list(server, status="done").json()
    assert [job["uuid"] for job in done["jobs"]] == [mine]
    assert done["next_cursor"] is None
    assert _list(server, status="failed").json() == {"jobs": [], "next_cursor": None}
    bobs = _list(server, token=server.bob).json()["jobs"]
    assert [job["filename"] for job in bobs] == ["bobs.pdf"]


def test_jobs_made_in_the_same_instant_are_each_listed_once(server: Server) -> None:
    # the clock stands still: every job has the same created_at, and the cursor's uuid
    # breaks the tie
    made = {submit(server, numbered_pdf(1), "same.pdf").json()["uuid"] for _ in range(5)}
    listed = _all(server, limit=2)
    assert sorted(listed) == sorted(made)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"status": "finished"}, "invalid_status"),
        ({"limit": "0"}, "invalid_limit"),
        ({"limit": "101"}, "invalid_limit"),
        ({"limit": "ten"}, "invalid_limit"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        # base64 of "2026-11-26T03:50:00|not-a-uuid"
        ({"cursor": "MjAyNi0xMS0yNlQwMzo1MDowMHxub3QtYS11dWlk"}, "invalid_cursor"),
    ],
)
def test_bad_list_queries_are_refused(server: Server, query: dict[str, str], code: str) -> None:
    assert_error(_list(server, **query), 400, code)


def test_listing_needs_a_token(server: Server) -> None:
    assert_error(server.client.get(API), 401, "missing_token")
