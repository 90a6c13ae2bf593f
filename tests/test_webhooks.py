"""Webhooks: a finished job's summary POSTed, signed, to a real HTTP receiver on
127.0.0.1, retried while the receiver fails, recorded on the job, and verified with the
SDK's helper. Private addresses are refused unless the server allows them."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpcore
import pytest

from ocrchat.webhooks import WebhookVerificationError, verify
from ocrchat_server.jobs.webhooks import PublicAddressesOnly, WebhookUrlError
from ocrchat_server.settings import Settings
from tests.conftest import MovableClock, Server, started
from tests.documents import numbered_pdf
from tests.test_api import API, assert_error, submit, wait_until_finished


@attrs.define
class Delivery:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP receiver on 127.0.0.1 that answers each POST with the next of ``answers``
    (200 once they run out) and keeps every delivery."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.deliveries: list[Delivery] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.deliveries.append(Delivery(headers, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/ocr"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for(self, count: int, timeout: float = 60) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.deliveries) >= count, f"{len(self.deliveries)} of {count} deliveries"
        return self.deliveries


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A server that may deliver to 127.0.0.1 (the test's receiver), with quick retries."""
    return Settings(
        data_dir=tmp_path / "data",
        workers=2,
        max_upload_bytes=8 * 1024 * 1024,
        webhook_private_addresses=True,
        webhook_retry_delays=(0.2, 0.2, 0.2),
    )


@pytest.fixture
def server(any_server: Server) -> Server:
    return any_server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started_receiver:
        yield started_receiver


def _secret(server: Server, token: str | None = None) -> str:
    account = server.client.get("/api/v1/account/", headers=server.headers(token)).json()
    secret: str = account["webhook_secret"]
    return secret


def _job(server: Server, uuid: str) -> dict[str, Any]:
    job: dict[str, Any] = server.client.get(f"{API}{uuid}/", headers=server.headers()).json()
    return job


def _wait_for_webhook(server: Server, uuid: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        webhook: dict[str, Any] = _job(server, uuid)["webhook"]
        if webhook["status"] == status or time.monotonic() > deadline:
            return webhook
        time.sleep(0.2)


def test_a_finished_job_is_delivered_signed(server: Server, receiver: Receiver) -> None:
    response = submit(server, numbered_pdf(7), "report.pdf", webhook_url=receiver.url)
    assert response.status_code == 202
    uuid = response.json()["uuid"]
    assert response.json()["webhook"]["status"] == "pending"
    wait_until_finished(server, uuid)

    (delivery,) = receiver.wait_for(1)
    event = verify(delivery.body, delivery.headers, _secret(server))
    assert event.type == "job.done"
    assert event.data.uuid == uuid
    assert event.data.status.value == "done"
    assert event.data.page_count == 7
    assert event.data.filename == "report.pdf"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["webhook-id"].startswith("msg_")

    webhook = _wait_for_webhook(server, uuid, "delivered")
    assert webhook["url"] == receiver.url
    assert webhook["attempts"] == 1
    assert webhook["last_status_code"] == 200
    assert webhook["delivered_at"] is not None


def test_a_tampered_or_foreign_delivery_is_rejected(server: Server, receiver: Receiver) -> None:
    job = submit(server, numbered_pdf(1), "one.pdf", webhook_url=receiver.url).json()
    (delivery,) = receiver.wait_for(1)
    secret = _secret(server)
    assert verify(delivery.body, delivery.headers, secret).data.uuid == job["uuid"]

    tampered = delivery.body.replace(b'"done"', b'"failed"')
    assert tampered != delivery.body
    with pytest.raises(WebhookVerificationError):
        verify(tampered, delivery.headers, secret)
    with pytest.raises(WebhookVerificationError):  # signed with alice's key, not bob's
        verify(delivery.body, delivery.headers, _secret(server, server.bob))
    stale = delivery.headers | {"webhook-timestamp": str(int(time.time()) - 3600)}
    with pytest.raises(WebhookVerificationError):  # a replay an hour later
        verify(delivery.body, stale, secret)
    unsigned = {k: v for k, v in delivery.headers.items() if k != "webhook-signature"}
    with pytest.raises(WebhookVerificationError):
        verify(delivery.body, unsigned, secret)


def test_a_failing_receiver_gets_retries_until_it_answers(
    server: Server, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    job = submit(server, numbered_pdf(1), "one.pdf", webhook_url=receiver.url).json()

    deliveries = receiver.wait_for(3)
    webhook = _wait_for_webhook(server, job["uuid"], "delivered")
    assert webhook["attempts"] == 3
    assert webhook["last_status_code"] == 200
    # the same message each time: same id, same body, so a receiver can drop a repeat
    assert len({d.headers["webhook-id"] for d in deliveries}) == 1
    assert len({d.body for d in deliveries}) == 1
    assert verify(deliveries[-1].body, deliveries[-1].headers, _secret(server))


def test_a_receiver_that_never_answers_2xx_is_given_up(server: Server, receiver: Receiver) -> None:
    receiver.answers = [500] * 10
    job = submit(server, numbered_pdf(1), "one.pdf", webhook_url=receiver.url).json()
    webhook = _wait_for_webhook(server, job["uuid"], "failed")
    assert webhook["status"] == "failed"
    assert webhook["attempts"] == 4  # the first and the three retries
    assert webhook["last_status_code"] == 500
    assert "500" in webhook["last_error"]
    time.sleep(1)
    assert len(receiver.deliveries) == 4


def test_the_accounts_default_webhook_is_used(server: Server, receiver: Receiver) -> None:
    response = server.client.patch(
        "/api/v1/account/", json={"webhook_url": receiver.url}, headers=server.headers()
    )
    assert response.status_code == 200, response.text
    assert response.json()["webhook_url"] == receiver.url

    failed = submit(server, b"%PDF-1.4 broken", "broken.pdf")
    assert failed.status_code == 400  # refused: never a job, so no webhook
    job = submit(server, numbered_pdf(1), "one.pdf").json()
    (delivery,) = receiver.wait_for(1)
    assert verify(delivery.body, delivery.headers, _secret(server)).data.uuid == job["uuid"]

    cleared = server.client.patch(
        "/api/v1/account/", json={"webhook_url": None}, headers=server.headers()
    )
    assert cleared.json()["webhook_url"] is None
    assert submit(server, numbered_pdf(1), "two.pdf").json()["webhook"] is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_addresses_are_refused_by_default(
    tmp_path: Path, clock: MovableClock, url: str
) -> None:
    with started(Settings(data_dir=tmp_path / "data", workers=1), clock) as server:
        before = server.client.get("/api/v1/account/", headers=server.headers()).json()["usage"]
        response = submit(server, numbered_pdf(1), "one.pdf", webhook_url=url)
        assert_error(response, 400, "invalid_webhook_url")
        after = server.client.get("/api/v1/account/", headers=server.headers()).json()["usage"]
        assert after == before
        patched = server.client.patch(
            "/api/v1/account/", json={"webhook_url": url}, headers=server.headers()
        )
        assert_error(patched, 400, "invalid_webhook_url")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "not a url",
        "http://user:secret@example.com/hook",
        "http://no-such-host.invalid/hook",
    ],
)
def test_other_bad_webhook_urls_are_refused(server: Server, url: str) -> None:
    assert_error(
        submit(server, numbered_pdf(1), "one.pdf", webhook_url=url), 400, "invalid_webhook_url"
    )


def test_a_rotated_key_signs_from_then_on(server: Server, receiver: Receiver) -> None:
    old = _secret(server)
    rotated = server.client.patch(
        "/api/v1/account/", json={"rotate_webhook_secret": True}, headers=server.headers()
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["webhook_secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert _secret(server) == new

    submit(server, numbered_pdf(1), "one.pdf", webhook_url=receiver.url)
    (delivery,) = receiver.wait_for(1)
    assert verify(delivery.body, delivery.headers, new).type == "job.done"
    with pytest.raises(WebhookVerificationError):
        verify(delivery.body, delivery.headers, old)


@pytest.mark.parametrize(
    "body",
    [{}, {"webhook": "x"}, {"rotate_webhook_secret": "yes"}, [], {"webhook_url": 7}],
)
def test_bad_account_updates_are_refused(server: Server, body: object) -> None:
    response = server.client.patch("/api/v1/account/", json=body, headers=server.headers())
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_account_update", "invalid_webhook_url")


def test_a_delivery_connects_only_to_a_checked_public_address(receiver: Receiver) -> None:
    """The check at connection time, which a name re-pointed after the submit's check
    (DNS rebinding) meets: the address connected to is the one checked."""
    local_name = receiver.url.replace("127.0.0.1", "localhost")

    async def post(url: str, *, allow_private: bool) -> int:
        backend = PublicAddressesOnly(allow_private_addresses=allow_private)
        async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
            response = await pool.request("POST", url, content=b"{}")
            return response.status

    for url in (receiver.url, local_name):
        with pytest.raises(WebhookUrlError):
            asyncio.run(post(url, allow_private=False))
    assert receiver.deliveries == []
    assert asyncio.run(post(receiver.url, allow_private=True)) == 200
    assert len(receiver.deliveries) == 1
