"""The one schema: what the server writes, the SDK reads, and old clients survive new servers."""

from __future__ import annotations

import datetime as dt

from ocrchat import Block, ErrorBody, Job, JobStatus, Page, Progress, Tier
from ocrchat._serde import structure, unstructure
from ocrchat.models import ChatReply, History, Role


def test_a_job_round_trips_through_json_values() -> None:
    job = Job(
        uuid="9f2c1b7e-0000-4000-8000-000000000000",
        status=JobStatus.DONE,
        tier=Tier.CPU,
        page_count=1,
        mean_confidence=0.91,
        text="INVOICE",
        markdown="# INVOICE",
        pages=[
            Page(
                index=0,
                text="INVOICE",
                width=100,
                height=50,
                blocks=[Block(text="INVOICE", bbox=(1, 2, 30, 12), confidence=0.91)],
            )
        ],
        progress=Progress(pages_done=1, pages_total=1),
        created_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    )
    data = unstructure(job)
    assert data["status"] == "done"
    assert data["pages"][0]["blocks"][0]["bbox"] == (1, 2, 30, 12)
    assert data["created_at"] == "2026-01-02T03:04:05+00:00"
    assert structure(data, Job) == job


def test_unknown_fields_from_a_newer_server_are_ignored() -> None:
    job = structure(
        {
            "uuid": "u",
            "status": "done",
            "shiny_new_field": {"x": 1},
            "pages": [{"index": 0, "text": "t", "blocks": [], "future": True}],
        },
        Job,
    )
    assert job.status is JobStatus.DONE
    assert job.pages == [Page(index=0, text="t")]


def test_unknown_status_tier_or_role_does_not_crash_the_client() -> None:
    job = structure({"uuid": "u", "status": "paused", "tier": "quantum"}, Job)
    assert job.status is JobStatus.UNKNOWN
    assert job.tier is Tier.UNKNOWN
    assert not job.status.finished
    reply = structure(
        {"conversation": "c", "message": {"role": "tool", "content": "x", "citations": []}},
        ChatReply,
    )
    assert reply.message.role is Role.UNKNOWN


def test_error_bodies_keep_their_extra_fields() -> None:
    body = structure(
        {"error": "Out of pages.", "code": "quota_exceeded", "used": 50, "cap": 50}, ErrorBody
    )
    assert body.details == {"used": 50, "cap": 50}
    assert unstructure(body) == {
        "error": "Out of pages.",
        "code": "quota_exceeded",
        "used": 50,
        "cap": 50,
    }


def test_chat_history_parses() -> None:
    history = structure(
        {
            "conversations": [
                {
                    "conversation": "a1",
                    "messages": [
                        {
                            "role": "user",
                            "content": "Total?",
                            "created_at": "2026-01-01T00:00:00+00:00",
                        },
                        {
                            "role": "assistant",
                            "content": "215 USD (p. 1).",
                            "citations": [{"page": 1, "snippet": "Total: 215.00 USD"}],
                        },
                    ],
                }
            ]
        },
        History,
    )
    messages = history.conversations[0].messages
    assert [m.role for m in messages] == [Role.USER, Role.ASSISTANT]
    assert messages[1].citations[0].page == 1
