"""Webhooks: a finished job's summary POSTed to the URL its submit (or its account) named.

Deliveries follow the Standard Webhooks conventions (https://www.standardwebhooks.com),
signed with the specification's reference library: headers ``webhook-id`` (one per job,
the same on every retry), ``webhook-timestamp`` and ``webhook-signature`` (HMAC-SHA256
under the account's ``whsec_`` key, over the id, the timestamp and the body). The body is
``{"type": "job.done" | "job.failed", "timestamp": ..., "data": <the job's summary>}``,
fixed at the first attempt.

A delivery is stored with its job and falls due when the job ends, in the same
transaction (:class:`~ocrchat_server.jobs.interfaces.WebhookLedger`), so a restart loses
none. :class:`WebhookDispatcher` sends what is due, and retries a failed attempt after each
of ``webhook_retry_delays`` before giving up. A 2xx answer is delivered; redirects are not
followed.

Against server-side request forgery, only ``http`` and ``https`` URLs are taken, and a
host that resolves to a loopback, private, link-local, multicast or otherwise non-public
address is refused, on submit and again before each attempt (a name can be pointed
elsewhere in between), unless the server's operator allows private addresses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs
import httpx
from standardwebhooks import Webhook

from ocrchat import __version__
from ocrchat._serde import unstructure
from ocrchat_server.jobs.records import WebhookRecord, job_summary, utc_now

if TYPE_CHECKING:
    from ocrchat_server.jobs.interfaces import JobRepository, WebhookLedger

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
_BATCH = 20
_POLL_SECONDS = 1.0
_MAX_ERROR = 300


class WebhookUrlError(ValueError):
    """A ``webhook_url`` that is not one the server will deliver to."""


@attrs.frozen
class WebhookPolicy:
    allow_private_addresses: bool = False
    retry_delays: tuple[float, ...] = (5, 60, 300, 1800, 7200, 18000, 36000)
    timeout: float = 10.0


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is no part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_webhook_url(url: str, *, allow_private_addresses: bool) -> None:
    """Refuse ``url`` unless it is http(s) to a host whose every address is public (or,
    with ``allow_private_addresses``, to any host that resolves)."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlError(f"webhook_url is at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlError(f"webhook_url is not a URL: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlError("webhook_url must be an http:// or https:// URL with a host.")
    if parts.username or parts.password:
        raise WebhookUrlError("webhook_url must not carry a user name or password.")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname,
            port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM,
        )
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlError(f"webhook_url's host {parts.hostname!r} does not resolve.") from None
    addresses = {str(entry[4][0]) for entry in found}
    if not allow_private_addresses and not all(_public(address) for address in addresses):
        raise WebhookUrlError(
            f"webhook_url's host {parts.hostname!r} is a loopback, private or other "
            "non-public address; this server delivers only to public addresses."
        )


class WebhookDispatcher:
    """Sends the due deliveries, and records each attempt."""

    def __init__(
        self, *, ledger: WebhookLedger, jobs: JobRepository, policy: WebhookPolicy
    ) -> None:
        self.ledger = ledger
        self.jobs = jobs
        self.policy = policy

    async def run(self) -> None:
        """Deliver until cancelled (a background task of the app)."""
        async with httpx.AsyncClient(
            follow_redirects=False,
            timeout=self.policy.timeout,
            headers={"User-Agent": f"ocrchat-server/{__version__} webhooks"},
        ) as client:
            while True:
                # a job's delivery falls due as it ends; looking each second keeps the
                # wait short at the cost of one indexed query
                await self.deliver_due(client)
                await asyncio.sleep(_POLL_SECONDS)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        # a claim lasts beyond one attempt's time: no other host takes it meanwhile
        lease = dt.timedelta(seconds=self.policy.timeout * 3 + 30)
        due = await asyncio.to_thread(
            self.ledger.claim_due_webhooks, utc_now(), lease=lease, limit=_BATCH
        )
        await asyncio.gather(*(self._attempt(client, delivery) for delivery in due))
        return len(due)

    def _payload(self, delivery: WebhookRecord) -> str | None:
        record = self.jobs.get_job(delivery.job_uuid)
        if record is None:
            return None  # deleted meanwhile (its delivery goes with it)
        event = {
            "type": f"job.{record.status.value}",
            "timestamp": utc_now().isoformat(),
            "data": unstructure(job_summary(record)),
        }
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False)

    async def _attempt(self, client: httpx.AsyncClient, delivery: WebhookRecord) -> None:
        payload = delivery.payload or await asyncio.to_thread(self._payload, delivery)
        if payload is None:
            return
        secret = await asyncio.to_thread(self.ledger.webhook_secret, delivery.account_id)
        now = utc_now()
        status_code: int | None = None
        error: str | None = None
        try:
            await check_webhook_url(
                delivery.url, allow_private_addresses=self.policy.allow_private_addresses
            )
            message_id = delivery.message_id or delivery.job_uuid
            headers = {
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(secret).sign(message_id, now, payload),
            }
            response = await client.post(delivery.url, content=payload.encode(), headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"The receiver answered {status_code} {response.reason_phrase}."
        except WebhookUrlError as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR] or type(exc).__name__
        attempts = delivery.attempts + 1
        retries_left = attempts <= len(self.policy.retry_delays)
        if error is None:
            status, next_at, delivered_at = "delivered", None, now
        elif retries_left and status_code != 410:  # 410 Gone: the receiver wants no more
            delay = self.policy.retry_delays[attempts - 1]
            status, next_at, delivered_at = "pending", now + dt.timedelta(seconds=delay), None
        else:
            status, next_at, delivered_at = "failed", None, None
        if error is not None:
            log.warning("webhook of job %s, attempt %d: %s", delivery.job_uuid, attempts, error)
        await asyncio.to_thread(
            self.ledger.record_webhook_attempt,
            attrs.evolve(
                delivery,
                status=status,
                attempts=attempts,
                last_status_code=status_code,
                last_error=error,
                last_attempt_at=now,
                delivered_at=delivered_at,
                next_attempt_at=next_at,
                payload=payload,
            ),
        )
