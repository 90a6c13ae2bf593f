"""The embedded mode's page queue: jobs run page by page on a pool of worker processes
of this server.

The pool gets one page at a time per free worker, never a whole job, so:

- a job waiting in the request (5 pages or fewer) jumps ahead of queued
  background jobs instead of waiting behind a 500-page PDF;
- the pages of one job spread over every worker;
- a worker holds one page image at a time, however long the document.

Background jobs are served first come, first served. Each finished page is
on disk before it counts, so a server that stops mid-job resumes it from
the pages it has not finished yet.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat.models import JobStatus
from ocrchat_server.engines.preparation import STEPS
from ocrchat_server.jobs.worker import PageOutcome, PageTask, init_worker, run_page

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocrchat_server.engines.vlm_server import VlmServer
    from ocrchat_server.jobs.assembly import JobFinisher
    from ocrchat_server.jobs.interfaces import JobRepository, ResultStorage
    from ocrchat_server.jobs.records import JobRecord

log = logging.getLogger(__name__)

MAX_INTERRUPTIONS = 3
"""Server stops a job may live through before it is failed instead of resumed."""
_MAX_ATTEMPTS_PER_PAGE = 2


@attrs.define(eq=False)
class _ActiveJob:
    record: JobRecord
    remaining: collections.deque[int]
    pages_done: int
    inline: bool
    finished: asyncio.Event = attrs.Factory(asyncio.Event)
    in_flight: int = 0
    error: str | None = None
    cancelled: bool = False
    attempts: collections.Counter[int] = attrs.Factory(collections.Counter)


class ProcessPoolQueue:
    """A :class:`~ocrchat_server.jobs.interfaces.PageQueue` in this process's memory."""

    def __init__(
        self,
        *,
        jobs: JobRepository,
        storage: ResultStorage,
        finisher: JobFinisher,
        workers: int,
        pool_factory: Callable[[int], ProcessPoolExecutor] | None = None,
        vlm: VlmServer | None = None,
        preparation: tuple[str, ...] = STEPS,
        worker_max_pages: int | None = None,
        worker_max_rss_mb: int | None = None,
    ) -> None:
        self.jobs = jobs
        self.storage = storage
        self.finisher = finisher
        self.preparation = preparation
        self.vlm = vlm
        self.workers = workers
        self._pool_factory = pool_factory or functools.partial(
            _spawn_pool, max_pages=worker_max_pages
        )
        self._max_rss = worker_max_rss_mb * 1024 * 1024 if worker_max_rss_mb else None
        self._pool: ProcessPoolExecutor | None = None
        self._jobs: dict[str, _ActiveJob] = {}
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ---------------------------------------------------------

    async def run(self) -> None:
        """Feed the pool until cancelled. Start it once, in the server's lifespan."""
        self._pool = self._pool_factory(self.workers)
        try:
            while True:
                self._fill_pool()
                await self._wake.wait()
                self._wake.clear()
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
            for task in list(self._tasks):
                task.cancel()

    def recover(self) -> None:
        """Queue the jobs a previous run left unfinished."""
        for record in self.jobs.jobs_with_status(JobStatus.PENDING, JobStatus.PROCESSING):
            if record.status is JobStatus.PROCESSING:
                interruptions = self.jobs.record_interruption(record.uuid)
                if interruptions >= MAX_INTERRUPTIONS:
                    self._fail_now(
                        record.uuid,
                        f"The server stopped {interruptions} times while this job ran, "
                        "so it was not started again.",
                    )
                    continue
            if not self.storage.has_upload(record.uuid):
                self._fail_now(record.uuid, "The uploaded file was lost before the job ran.")
                continue
            self._add(record, inline=False)

    def _fail_now(self, uuid: str, error: str) -> None:
        self.finisher.fail(uuid, error)
        self.storage.delete_upload(uuid)

    # --- what the service calls ---------------------------------------------

    def enqueue(self, record: JobRecord) -> None:
        self._add(record, inline=False)

    async def run_inline(self, record: JobRecord) -> None:
        """Run the job ahead of the queue and return once it is done or failed."""
        job = self._add(record, inline=True)
        await job.finished.wait()

    def cancel(self, uuid: str) -> None:
        """Stop scheduling the job's pages (it is being deleted)."""
        job = self._jobs.pop(uuid, None)
        if job is not None:
            job.cancelled = True
            job.remaining.clear()
            job.finished.set()

    def is_active(self, uuid: str) -> bool:
        return uuid in self._jobs

    # --- scheduling ---------------------------------------------------------

    def _add(self, record: JobRecord, *, inline: bool) -> _ActiveJob:
        done = self.storage.finished_pages(record.uuid)
        remaining = collections.deque(i for i in range(record.page_count) if i not in done)
        job = _ActiveJob(record=record, remaining=remaining, pages_done=len(done), inline=inline)
        self._jobs[record.uuid] = job
        if not remaining:  # every page survived a restart: only the assembly is left
            self._spawn(self._finish(job))
        self._wake.set()
        return job

    def _next_page(self) -> tuple[_ActiveJob, int] | None:
        """Jobs waiting in their request first, then by plan priority; within each, first
        come, first served (dicts keep insertion order and max() keeps the first of ties)."""
        ready = [job for job in self._jobs.values() if job.remaining and job.error is None]
        if not ready:
            return None
        job = max(ready, key=lambda job: (job.inline, job.record.priority))
        return job, job.remaining.popleft()

    def _fill_pool(self) -> None:
        while self._in_flight < self.workers and (picked := self._next_page()):
            job, index = picked
            if job.record.status is JobStatus.PENDING:
                self.jobs.mark_processing(job.record.uuid)
                job.record = attrs.evolve(job.record, status=JobStatus.PROCESSING)
            task = PageTask.of(
                job.record,
                index,
                self.storage,
                preparation=self.preparation,
                vlm=self.vlm.connection if self.vlm else None,
            )
            assert self._pool is not None
            loop = asyncio.get_running_loop()
            try:
                future = loop.run_in_executor(self._pool, run_page, task)
            except BrokenProcessPool:
                # a worker died while it had nothing to do: no page reports the crash,
                # and the broken pool refuses new work
                self._replace_pool(self._pool)
                future = loop.run_in_executor(self._pool, run_page, task)
            self._in_flight += 1
            job.in_flight += 1
            self._spawn(self._page_finished(job, index, future, self._pool))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _page_finished(
        self,
        job: _ActiveJob,
        index: int,
        future: asyncio.Future[PageOutcome],
        pool: ProcessPoolExecutor,
    ) -> None:
        try:
            outcome = await future
            error = outcome.error
            if self._max_rss is not None and outcome.worker_rss > self._max_rss:
                self._recycle_pool(pool, outcome.worker_rss)
        except BrokenProcessPool:
            error = self._after_crash(job, index, pool)
        except Exception:
            log.exception("page %d of job %s", index + 1, job.record.uuid)
            error = f"Page {index + 1} could not be processed."
        finally:
            self._in_flight -= 1
            job.in_flight -= 1
            self._wake.set()

        if job.cancelled:
            if job.in_flight == 0:
                self.storage.delete_all(job.record.uuid)  # a page may have landed after the delete
            return
        if error is not None:
            job.error = job.error or error
            job.remaining.clear()
        elif self.storage.page_result(job.record.uuid, index).exists():
            job.pages_done += 1
            self.jobs.set_pages_done(job.record.uuid, job.pages_done)
        if job.in_flight == 0 and (job.error is not None or not job.remaining):
            await self._finish(job)

    def _recycle_pool(self, pool: ProcessPoolExecutor, rss: int) -> None:
        """Fresh workers for a pool one of whose workers outgrew its memory budget. Pages
        the old pool is reading finish there; it ends once they are done."""
        if self._pool is pool:
            log.info("a worker grew to %d MB, over its budget: starting fresh workers", rss >> 20)
            self._pool = self._pool_factory(self.workers)
            pool.shutdown(wait=False, cancel_futures=False)

    def _replace_pool(self, pool: ProcessPoolExecutor) -> None:
        """A fresh pool for one a worker died in (once, however many pages report it)."""
        if self._pool is pool:
            log.error("a worker process died; starting a new pool")
            self._pool = self._pool_factory(self.workers)
            pool.shutdown(wait=False, cancel_futures=True)

    def _after_crash(self, job: _ActiveJob, index: int, pool: ProcessPoolExecutor) -> str | None:
        """A worker died (killed, out of memory): new pool, and the page gets one more try."""
        self._replace_pool(pool)
        job.attempts[index] += 1
        if job.attempts[index] >= _MAX_ATTEMPTS_PER_PAGE:
            return f"The worker crashed on page {index + 1}; the page may be too large."
        job.remaining.appendleft(index)
        return None

    async def _finish(self, job: _ActiveJob) -> None:
        try:
            job.error = await asyncio.to_thread(self.finisher.finish, job.record, job.error)
        finally:
            self._jobs.pop(job.record.uuid, None)
            job.finished.set()


def _spawn_pool(workers: int, *, max_pages: int | None = None) -> ProcessPoolExecutor:
    # spawn, not fork: the server process runs threads and an event loop.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        # the workers die with this server, whatever kills it
        initargs=(os.getpid(),),
        # a worker is replaced after this many pages: what memory it leaks goes with it
        max_tasks_per_child=max_pages,
    )
