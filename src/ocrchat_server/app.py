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
from ocrchat_server.engines.translation import Translator
from ocrchat_server.engines.vlm_server import VlmServer
from ocrchat_server.errors import ApiError
from ocrchat_server.http.access_log import AccessLogMiddleware
from ocrchat_server.http.errors import api_error, http_error, server_error
from ocrchat_server.http.routes import routes
from ocrchat_server.jobs.files import JobFiles
from ocrchat_server.jobs.runner import JobRunner
from ocrchat_server.jobs.service import JobService
from ocrchat_server.jobs.store import Clock, JobStore, utc_now

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import ProcessPoolExecutor

    from ocrchat_server.settings import Settings

log = logging.getLogger(__name__)


@attrs.frozen
class Services:
    """What the handlers reach through ``request.state.services``."""

    settings: Settings
    store: JobStore
    files: JobFiles
    runner: JobRunner
    jobs: JobService
    chat: ChatService
    vlm: VlmServer


class State(TypedDict):
    services: Services


async def _sweep_expired(services: Services) -> None:
    while True:
        try:
            services.jobs.expire()
        except Exception:
            log.exception("deleting expired jobs failed; trying again later")
        await asyncio.sleep(services.settings.sweep_interval.total_seconds())


def _answerer(settings: Settings) -> Answerer:
    endpoint = settings.llm_endpoint
    return LlmAnswerer(endpoint) if endpoint else RetrievalAnswerer()


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    pool_factory: Callable[[int], ProcessPoolExecutor] | None = None,
    answerer: Answerer | None = None,
) -> Starlette:
    """The whole server as an ASGI app. Its data dir is created when it starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        files = JobFiles(settings.data_dir)
        files.create_dirs()
        store = JobStore(settings.database, clock=clock)
        vlm = VlmServer(settings)
        runner = JobRunner(
            store=store,
            files=files,
            workers=settings.workers,
            retention=settings.retention,
            pool_factory=pool_factory,
            vlm=vlm,
            preparation=settings.preparation,
            worker_max_pages=settings.worker_max_pages,
            worker_max_rss_mb=settings.worker_max_rss_mb,
            translator=Translator(settings.llm_endpoint) if settings.llm_endpoint else None,
        )
        jobs = JobService(settings=settings, store=store, files=files, runner=runner, vlm=vlm)
        chat = ChatService(store=store, jobs=jobs, answerer=answerer or _answerer(settings))
        services = Services(
            settings=settings,
            store=store,
            files=files,
            runner=runner,
            jobs=jobs,
            chat=chat,
            vlm=vlm,
        )
        app.state.services = services  # for tests and tools that hold the app, not a request
        runner.recover()
        background = [
            asyncio.create_task(runner.run(), name="ocrchat-runner"),
            asyncio.create_task(_sweep_expired(services), name="ocrchat-expiry"),
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
            store.close()

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(AccessLogMiddleware)],
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
