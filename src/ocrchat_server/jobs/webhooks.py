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
address is refused, unless the server's operator allows private addresses: on submit
(400), and again when a delivery connects. There the name is resolved once, its
addresses checked and the connection made to a checked address
(:class:`PublicAddressesOnly`, an httpcore network backend), so a name pointed elsewhere
between the check and the connection (DNS rebinding) reaches nothing private. TLS still
verifies the certificate against the URL's host name.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs
import httpcore
from standardwebhooks import Webhook

from ocrchat import __version__
from ocrchat._serde import unstructure
from ocrchat_server.jobs.records import WebhookRecord, job_summary, utc_now

if TYPE_CHECKING:
    from httpcore import SOCKET_OPTION as SocketOption

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


async def _addresses(host: str, port: int) -> list[str]:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlError(f"webhook_url's host {host!r} does not resolve.") from None
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


def _refuse_private(host: str, addresses: list[str]) -> None:
    if not all(_public(address) for address in addresses):
        raise WebhookUrlError(
            f"webhook_url's host {host!r} is a loopback, private or other non-public "
            "address; this server delivers only to public addresses."
        )


class PublicAddressesOnly(httpcore.AsyncNetworkBackend):
    """Connections to hosts whose every address is public, made to the address checked
    (not to a second lookup of the name); with ``allow_private_addresses``, any host."""

    def __init__(self, *, allow_private_addresses: bool) -> None:
        self.allow_private_addresses = allow_private_addresses
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _addresses(host, port)
        if not self.allow_private_addresses:
            _refuse_private(host, addresses)
        return await self._backend.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise WebhookUrlError("webhooks are delivered over TCP only.")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


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
    addresses = await _addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    if not allow_private_addresses:
        _refuse_private(parts.hostname, addresses)


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
        # httpcore, not httpx: its network backend is where the connection's address is
        # checked; it never follows a redirect
        backend = PublicAddressesOnly(allow_private_addresses=self.policy.allow_private_addresses)
        async with httpcore.AsyncConnectionPool(network_backend=backend) as client:
            while True:
                # a job's delivery falls due as it ends; looking each second keeps the
                # wait short at the cost of one indexed query
                await self.deliver_due(client)
                await asyncio.sleep(_POLL_SECONDS)

    async def deliver_due(self, client: httpcore.AsyncConnectionPool) -> int:
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

    async def _attempt(self, client: httpcore.AsyncConnectionPool, delivery: WebhookRecord) -> None:
        payload = delivery.payload or await asyncio.to_thread(self._payload, delivery)
        if payload is None:
            return
        secret = await asyncio.to_thread(self.ledger.webhook_secret, delivery.account_id)
        now = utc_now()
        status_code: int | None = None
        error: str | None = None
        message_id = delivery.message_id or delivery.job_uuid
        headers = {
            "content-type": "application/json",
            "user-agent": f"ocrchat-server/{__version__} webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, now, payload),
        }
        timeout = self.policy.timeout
        timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        try:
            response = await client.request(
                "POST",
                delivery.url,
                headers=list(headers.items()),
                content=payload.encode(),
                extensions={"timeout": timeouts},
            )
            status_code = response.status
            if not 200 <= status_code < 300:
                reason = response.extensions.get("reason_phrase", b"").decode("latin-1")
                error = f"The receiver answered {status_code} {reason}".strip() + "."
        except WebhookUrlError as exc:
            error = str(exc)
        except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]
        except httpcore.UnsupportedProtocol as exc:
            error = f"The URL cannot be delivered to: {exc}"[:_MAX_ERROR]
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
