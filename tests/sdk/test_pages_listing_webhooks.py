"""The SDK's page selection, job listing and webhooks against the real server: in process
for ``Client``, a real uvicorn for ``AsyncClient``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

import ocrchat
from ocrchat.webhooks import verify
from ocrchat_server.settings import Settings
from tests.conftest import Live, Server
from tests.documents import numbered_pdf
from tests.sdk.test_client import sdk
from tests.test_webhooks import Receiver


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        workers=2,
        max_upload_bytes=8 * 1024 * 1024,
        webhook_private_addresses=True,  # the receiver is on 127.0.0.1
    )


def test_pages_reads_and_charges_only_the_selection(server: Server) -> None:
    client = sdk(server)
    before = client.account().usage.day
    job = client.ocr(numbered_pdf(5), pages="2-3")
    assert job.page_count == 5
    assert job.page_selection == "2-3"
    assert job.pages is not None
    assert [page.index for page in job.pages] == [1, 2]
    assert client.account().usage.day == before + 2
    with pytest.raises(ocrchat.BadRequestError) as refused:
        client.submit(numbered_pdf(5), pages="4-9")
    assert refused.value.code == "pages_out_of_range"
    assert client.account().usage.day == before + 2


def test_jobs_iterates_through_every_page_of_the_list(server: Server) -> None:
    client = sdk(server)
    document = numbered_pdf(1)
    made = [client.submit(("page.pdf", document)).uuid for _ in range(120)]

    first = client.list_jobs(limit=50)
    assert len(first.jobs) == 50
    assert first.next_cursor is not None
    pages_asked = 0

    def count_list_requests(request: httpx.Request) -> None:
        nonlocal pages_asked
        if request.method == "GET" and request.url.path == "/api/v1/ocr/":
            pages_asked += 1

    server.client.event_hooks["request"].append(count_list_requests)
    listed = [summary.uuid for summary in client.jobs(page_size=50)]
    assert pages_asked == 3  # 50, 50 and 20
    assert sorted(listed) == sorted(made)
    assert len(listed) == len(set(listed)) == 120
    assert all(isinstance(s, ocrchat.JobSummary) for s in client.jobs(page_size=100))

    # lazily: stopping early asks for no more pages
    pages_asked = 0
    for _ in zip(range(3), client.jobs(page_size=2), strict=False):
        pass
    assert pages_asked == 2
    assert list(client.jobs(status="failed")) == []


def test_a_webhook_reaches_a_receiver_and_verifies(server: Server) -> None:
    client = sdk(server)
    secret = client.account().webhook_secret
    assert secret is not None
    with Receiver() as receiver:
        job = client.ocr(numbered_pdf(1), webhook_url=receiver.url)
        (delivery,) = receiver.wait_for(1)
    event = verify(delivery.body, delivery.headers, secret)
    assert (event.type, event.data.uuid) == ("job.done", job.uuid)
    with pytest.raises(ocrchat.BadRequestError) as refused:
        # an address this server may deliver to, but not a URL it takes
        client.submit(numbered_pdf(1), webhook_url="ftp://127.0.0.1/hook")
    assert refused.value.code == "invalid_webhook_url"


def test_a_private_webhook_url_is_refused_by_default(live: Live) -> None:
    with (
        ocrchat.Client(live.alice, base_url=live.url) as client,
        pytest.raises(ocrchat.BadRequestError) as refused,
    ):
        client.submit(numbered_pdf(1), webhook_url="http://169.254.169.254/latest/")
    assert refused.value.code == "invalid_webhook_url"
    assert refused.value.status_code == 400


def test_the_async_client_lists_jobs_lazily(live: Live) -> None:
    async def main() -> tuple[list[str], list[str], ocrchat.Job]:
        async with ocrchat.AsyncClient(live.alice, base_url=live.url) as client:
            job = await client.ocr(numbered_pdf(4), pages="3-")
            walked = []
            async for summary in client.jobs(page_size=2):
                walked.append(summary.uuid)
                if len(walked) == 5:
                    break
            one_page = await client.list_jobs(limit=5)
            return walked, [s.uuid for s in one_page.jobs], job

    walked, listed, job = asyncio.run(main())
    assert walked == listed
    assert walked[0] == job.uuid
    assert job.page_selection == "3-4"
    assert job.pages is not None
    assert [page.index for page in job.pages] == [2, 3]


def test_update_account_sets_the_webhook_default_and_rotates_the_key(server: Server) -> None:
    client = sdk(server)
    before = client.account()
    with Receiver() as receiver:
        updated = client.update_account(webhook_url=receiver.url)
        assert updated.webhook_url == receiver.url
        assert updated.webhook_secret == before.webhook_secret
        job = client.ocr(numbered_pdf(1))  # no webhook_url: the account's default
        (delivery,) = receiver.wait_for(1)
    assert verify(delivery.body, delivery.headers, updated.webhook_secret or "").data.uuid == (
        job.uuid
    )
    rotated = client.update_account(rotate_webhook_secret=True)
    assert rotated.webhook_secret != before.webhook_secret
    assert rotated.webhook_url == receiver.url  # left as it was
    assert client.update_account(webhook_url=None).webhook_url is None
    with pytest.raises(ValueError, match="webhook_url"):
        client.update_account()
