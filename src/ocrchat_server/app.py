"""``create_app`` wires the layers: HTTP -> jobs -> engines and ingest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypedDict

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from ocrchat_server.chat.answers import Answerer, LlmAnswerer, RetrievalAnswerer
from ocrchat_server.chat.service import ChatService
from ocrchat_server.engines.vlm_server import VlmServer
from ocrchat_server.errors import ServiceError
from ocrchat_server.health import Health
from ocrchat_server.http.access_log import AccessLogMiddleware
from ocrchat_server.http.errors import (
    HttpError,
    http_error,
    http_layer_error,
    server_error,
    service_error,
)
from ocrchat_server.http.job_bodies import RenderedJobs
from ocrchat_server.http.rate_limits import AccountRateLimit
from ocrchat_server.http.request_ids import RequestIdMiddleware
from ocrchat_server.http.routes import routes
from ocrchat_server.jobs.accounts import AccountService
from ocrchat_server.jobs.assembly import JobFinisher
from ocrchat_server.jobs.catalog import Catalog
from ocrchat_server.jobs.embedded import open_backend
from ocrchat_server.jobs.embedded.process_pool import ProcessPoolQueue
from ocrchat_server.jobs.records import Clock, utc_now
from ocrchat_server.jobs.service import JobService
from ocrchat_server.jobs.webhooks import WebhookDispatcher, WebhookPolicy
from ocrchat_server.web.routes import web_routes

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ocrchat_server.jobs.interfaces import Backend, PageQueue
    from ocrchat_server.settings import Settings

log = logging.getLogger(__name__)


@attrs.frozen
class Services:
    """What the handlers reach through ``request.state.services``: the facades of the
    jobs and chat layers. ``backend`` and ``queue`` are there for tests and tools that
    hold the app; handlers never use them."""

    settings: Settings
    jobs: JobService
    accounts: AccountService
    chat: ChatService
    catalog: Catalog
    vlm: VlmServer
    backend: Backend
    queue: PageQueue
    health: Health
    rate_limit: AccountRateLimit | None = None
    job_bodies: RenderedJobs = attrs.Factory(RenderedJobs)


class State(TypedDict):
    services: Services


async def _sweep_expired(services: Services) -> None:
    while True:
        try:
            services.jobs.expire()
            services.accounts.expire_web_sessions()
        except Exception:
            log.exception("deleting expired jobs or web sessions failed; trying again later")
        await asyncio.sleep(services.settings.sweep_interval.total_seconds())


def _rate_limit(settings: Settings) -> AccountRateLimit | None:
    """Requests per account, counted in the broker's Redis when there is one (every API
    server then counts the same requests)."""
    if settings.requests_per_minute is None:
        return None
    return AccountRateLimit(settings.requests_per_minute, redis_url=settings.broker_url)


def _answerer(settings: Settings) -> Answerer:
    endpoint = settings.llm_endpoint
    return LlmAnswerer(endpoint) if endpoint else RetrievalAnswerer()


def _backend_and_queue(
    settings: Settings,
    clock: Clock,
    vlm: VlmServer,
) -> tuple[Backend, PageQueue]:
    """The scale-out backend and Celery queue when a database URL is set; else the
    embedded ones."""
    if settings.scale_out:
        from ocrchat_server.jobs import scaleout
        from ocrchat_server.jobs.scaleout.celery_queue import CeleryQueue

        backend, store = scaleout.open_backend(settings, clock=clock)
        return backend, CeleryQueue(store=store, settings=settings)
    backend = open_backend(settings, clock=clock)
    finisher = JobFinisher.configured(
        settings, jobs=backend.jobs, charges=backend.charges, storage=backend.storage
    )
    queue = ProcessPoolQueue(
        jobs=backend.jobs,
        storage=backend.storage,
        finisher=finisher,
        workers=settings.workers,
        vlm=vlm,
        preparation=settings.preparation,
        worker_max_pages=settings.worker_max_pages,
        worker_max_rss_mb=settings.worker_max_rss_mb,
        page_timeout=settings.page_timeout.total_seconds() if settings.page_timeout else None,
        pages_in_flight_per_account=settings.pages_in_flight_per_account,
    )
    return backend, queue


class OcrchatApp(Starlette):
    """Starlette, with every response's ``X-Request-ID`` set outside all of its middleware:
    Starlette's own error middleware (which answers a 500) is the outermost of its
    stack, so the id is given outside it, and a 500 carries the id too."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestIdMiddleware(super().build_middleware_stack())


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    answerer: Answerer | None = None,
) -> Starlette:
    """The whole server as an ASGI app. Its data dir is created when it starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        vlm = VlmServer(settings)
        backend, queue = _backend_and_queue(settings, clock, vlm)
        health = Health(
            folders=[settings.data_dir, *([settings.storage] if settings.storage else [])]
        )
        accounts = AccountService(
            accounts=backend.accounts,
            charges=backend.charges,
            webhooks=backend.webhooks,
            plans=settings.plans,
            clock=clock,
            webhook_private_addresses=settings.webhook_private_addresses,
            web_session_ttl=settings.web_session_ttl,
        )
        jobs = JobService(
            settings=settings,
            jobs=backend.jobs,
            charges=backend.charges,
            storage=backend.storage,
            queue=queue,
            accounts=accounts,
            vlm=vlm,
            webhooks=backend.webhooks,
        )
        webhooks = WebhookDispatcher(
            ledger=backend.webhooks,
            jobs=backend.jobs,
            policy=WebhookPolicy(
                allow_private_addresses=settings.webhook_private_addresses,
                retry_delays=settings.webhook_retry_delays,
                timeout=settings.webhook_timeout.total_seconds(),
            ),
        )
        chat = ChatService(
            conversations=backend.conversations,
            jobs=jobs,
            answerer=answerer or _answerer(settings),
            clock=clock,
        )
        services = Services(
            settings=settings,
            jobs=jobs,
            accounts=accounts,
            chat=chat,
            catalog=Catalog(settings=settings, vlm=vlm),
            vlm=vlm,
            backend=backend,
            queue=queue,
            health=health,
            rate_limit=_rate_limit(settings),
        )
        app.state.services = services  # for tests and tools that hold the app, not a request
        queue.recover()
        background = [
            asyncio.create_task(health.supervise("queue", queue.run), name="ocrchat-queue"),
            asyncio.create_task(
                health.supervise("expiry", lambda: _sweep_expired(services)),
                name="ocrchat-expiry",
            ),
            asyncio.create_task(
                health.supervise("webhooks", webhooks.run), name="ocrchat-webhooks"
            ),
            # llama-server takes a while to load its model; the cpu tier serves meanwhile
            asyncio.create_task(vlm.start(), name="ocrchat-vlm-start"),
        ]
        try:
            yield {"services": services}
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await vlm.stop()
            backend.close()

    # the web app's pages sit beside the API (--no-ui: the API alone)
    served = [*routes, *web_routes()] if settings.ui else routes
    return OcrchatApp(
        routes=served,
        lifespan=lifespan,
        middleware=[Middleware(AccessLogMiddleware)],
        exception_handlers={
            ServiceError: service_error,
            HttpError: http_layer_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
