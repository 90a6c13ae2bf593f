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
    if settings.llm_url:
        return LlmAnswerer(
            url=settings.llm_url,
            model=settings.llm_model or "default",
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout,
        )
    return RetrievalAnswerer()


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
        runner = JobRunner(
            store=store,
            files=files,
            workers=settings.workers,
            retention=settings.retention,
            pool_factory=pool_factory,
        )
        jobs = JobService(settings=settings, store=store, files=files, runner=runner)
        chat = ChatService(store=store, jobs=jobs, answerer=answerer or _answerer(settings))
        services = Services(
            settings=settings, store=store, files=files, runner=runner, jobs=jobs, chat=chat
        )
        app.state.services = services  # for tests and tools that hold the app, not a request
        runner.recover()
        background = [
            asyncio.create_task(runner.run(), name="ocrchat-runner"),
            asyncio.create_task(_sweep_expired(services), name="ocrchat-expiry"),
        ]
        try:
            yield {"services": services}
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
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
