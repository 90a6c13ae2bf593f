"""The embedded mode's page queue: jobs run page by page on a pool of worker processes
of this server.

The pool gets one page at a time per free worker, never a whole job, so:

- a job waiting in the request (5 pages or fewer) jumps ahead of queued
  background jobs instead of waiting behind a 500-page PDF;
- the pages of one job spread over every worker;
- a worker holds one page image at a time, however long the document.

Background jobs are served by plan, then the account with the fewest pages
being read, then first come, first served; ``pages_in_flight_per_account``
caps what one account holds at once. Each finished page is on disk before
it counts, so a server that stops mid-job resumes it from the pages it has
not finished yet.

The workers are Pebble's process pool (not the standard library's), for what
a page may do to its worker:

- a page over ``page_timeout`` has its worker stopped, and fails with a clear
  error (the rasterizer a worker starts dies with it: ``ingest.pages``);
- a deleted job's pages being read have their workers stopped too (in a
  pool that takes no new page meanwhile: see :meth:`ProcessPoolQueue._stop_pages`);
- a worker that dies costs only its own page an attempt: the pool replaces
  it, and the pages in the other workers go on (the standard pool broke, and
  every page in flight failed with it).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import multiprocessing
import os
import threading
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import attrs
import pebble

from ocrchat.models import JobStatus
from ocrchat_server.engines.preparation import STEPS
from ocrchat_server.jobs.worker import PageOutcome, PageTask, init_worker, run_page

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocrchat_server.engines.vlm_server import VlmServer
    from ocrchat_server.jobs.assembly import JobFinisher
    from ocrchat_server.jobs.interfaces import JobRepository, ResultStorage
    from ocrchat_server.jobs.records import JobRecord

log = logging.getLogger(__name__)

MAX_INTERRUPTIONS = 3
"""Server stops a job may live through before it is failed instead of resumed."""
_MAX_ATTEMPTS_PER_PAGE = 2
_MAX_REQUEUES_PER_PAGE = 3
_RETRY_SECONDS = 5
"""How long the queue waits before writing again after a write failed (a full disk)."""
_POOL_JOIN_SECONDS = 10


@attrs.define(eq=False)
class _ActiveJob:
    record: JobRecord
    remaining: collections.deque[int]
    pages_done: int
    inline: bool
    finished: asyncio.Event = attrs.Factory(asyncio.Event)
    running: dict[int, concurrent.futures.Future[PageOutcome]] = attrs.Factory(dict)
    """Its pages being read now, by index: cancelling one stops its worker process."""
    moved: set[int] = attrs.Factory(set)
    """Pages called back from a pool before a worker started them, to be scheduled again."""
    error: str | None = None
    cancelled: bool = False
    attempts: collections.Counter[int] = attrs.Factory(collections.Counter)
    """Deaths of the worker reading each page."""
    requeues: collections.Counter[int] = attrs.Factory(collections.Counter)
    """Times each page went back to the queue from a broken pool."""

    @property
    def in_flight(self) -> int:
        return len(self.running)


class ProcessPoolQueue:
    """A :class:`~ocrchat_server.jobs.interfaces.PageQueue` in this process's memory."""

    def __init__(
        self,
        *,
        jobs: JobRepository,
        storage: ResultStorage,
        finisher: JobFinisher,
        workers: int,
        vlm: VlmServer | None = None,
        preparation: tuple[str, ...] = STEPS,
        worker_max_pages: int | None = None,
        worker_max_rss_mb: int | None = None,
        page_timeout: float | None = None,
        pages_in_flight_per_account: int | None = None,
    ) -> None:
        self.jobs = jobs
        self.storage = storage
        self.finisher = finisher
        self.preparation = preparation
        self.vlm = vlm
        self.workers = workers
        self.page_timeout = page_timeout
        self.pages_in_flight_per_account = pages_in_flight_per_account
        self._max_pages = worker_max_pages
        self._max_rss = worker_max_rss_mb * 1024 * 1024 if worker_max_rss_mb else None
        self._pool: pebble.ProcessPool | None = None
        self._unsettled: collections.Counter[pebble.ProcessPool] = collections.Counter()
        """Pages each pool was given that have not come back yet."""
        self._draining: set[pebble.ProcessPool] = set()
        """Old pools that take no new page, each stopped once its last page is back."""
        self._jobs: dict[str, _ActiveJob] = {}
        self._in_flight = 0
        # the same count, where the workers see it: while some of them are idle, the others
        # read on their cores too (ocrchat_server.engines.ppocr.read_on_free_cores)
        self._pages_in_flight = multiprocessing.get_context("spawn").Value("i", 0, lock=False)
        self._account_in_flight: collections.Counter[int] = collections.Counter()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ---------------------------------------------------------

    async def run(self) -> None:
        """Feed the pool until cancelled. Start it once, in the server's lifespan."""
        self._pool = self._new_pool()
        try:
            while True:
                try:
                    self._fill_pool()
                except Exception:
                    # a record that could not be written (a full disk): the page went back
                    # to its job; try again in a while rather than let the queue die
                    log.exception("scheduling pages failed; trying again in %d s", _RETRY_SECONDS)
                    await asyncio.sleep(_RETRY_SECONDS)
                    continue
                await self._wake.wait()
                self._wake.clear()
        finally:
            for task in list(self._tasks):
                task.cancel()
            for pool in (self._pool, *self._draining):
                _retire(pool)

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

    async def wait_until_finished(self, record: JobRecord) -> None:
        job = self._jobs.get(record.uuid)
        if job is not None and job.inline:
            await job.finished.wait()

    def cancel(self, uuid: str, *, pages: Sequence[int] = ()) -> None:
        """Stop the job (it is being deleted): no more of its pages are scheduled, and the
        workers reading its pages now are stopped, with the processes they started (a
        rasterizer stuck on a bomb would otherwise run on for hours)."""
        job = self._jobs.pop(uuid, None)
        if job is not None:
            job.cancelled = True
            job.remaining.clear()
            self._stop_pages(job)
            job.finished.set()

    def is_active(self, uuid: str) -> bool:
        return uuid in self._jobs

    # --- scheduling ---------------------------------------------------------

    def _add(self, record: JobRecord, *, inline: bool) -> _ActiveJob:
        done = self.storage.finished_pages(record.uuid)
        remaining = collections.deque(i for i in record.page_indexes if i not in done)
        job = _ActiveJob(record=record, remaining=remaining, pages_done=len(done), inline=inline)
        self._jobs[record.uuid] = job
        if not remaining:  # every page survived a restart: only the assembly is left
            self._spawn(self._finish(job))
        self._wake.set()
        return job

    def _next_page(self) -> tuple[_ActiveJob, int] | None:
        """Jobs waiting in their request first, then by plan priority, then the account
        with the fewest pages being read; within each, first come, first served (dicts
        keep insertion order and max() keeps the first of ties). An account at its cap of
        pages in flight waits: one account cannot take every worker."""
        ready = self._ready_jobs()
        if not ready:
            return None
        job = max(
            ready,
            key=lambda job: (
                job.inline,
                job.record.priority,
                -self._account_in_flight[job.record.account_id],
            ),
        )
        return job, job.remaining.popleft()

    def _ready_jobs(self) -> list[_ActiveJob]:
        """The jobs with a page that may go to a worker now."""
        cap = self.pages_in_flight_per_account
        return [
            job
            for job in self._jobs.values()
            if job.remaining
            and job.error is None
            and (cap is None or self._account_in_flight[job.record.account_id] < cap)
        ]

    def _fill_pool(self) -> None:
        while self._in_flight < self.workers and (picked := self._next_page()):
            job, index = picked
            if job.record.status is JobStatus.PENDING:
                try:
                    self.jobs.mark_processing(job.record.uuid)
                except Exception:
                    job.remaining.appendleft(index)
                    raise
                job.record = attrs.evolve(job.record, status=JobStatus.PROCESSING)
            task = PageTask.of(
                job.record,
                index,
                self.storage,
                preparation=self.preparation,
                vlm=self.vlm.connection if self.vlm else None,
                page_timeout=self.page_timeout,
            )
            assert self._pool is not None
            # the pool stops the worker once the page is over its time (and with it the
            # rasterizer it started), and replaces any worker that dies: the other pages
            # in flight go on
            try:
                future = self._pool.schedule(run_page, args=(task,), timeout=self.page_timeout)
            except RuntimeError:
                # a worker died while it had nothing to do: Pebble cannot tell what it
                # left in the pool's channel, so it calls the pool broken and refuses work
                self._replace_pool(self._pool)
                future = self._pool.schedule(run_page, args=(task,), timeout=self.page_timeout)
            self._in_flight += 1
            self._pages_in_flight.value = self._in_flight
            self._account_in_flight[job.record.account_id] += 1
            self._unsettled[self._pool] += 1
            job.running[index] = future
            self._spawn(self._page_finished(job, index, future, self._pool))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _page_finished(
        self,
        job: _ActiveJob,
        index: int,
        future: concurrent.futures.Future[PageOutcome],
        pool: pebble.ProcessPool,
    ) -> None:
        try:
            error = await self._page_error(job, index, future, pool)
        finally:
            self._in_flight -= 1
            # the account's own count first: an account at its cap has its next page
            # ready only once this one is off its count
            self._account_in_flight[job.record.account_id] -= 1
            if not self._ready_jobs():
                # where another page waits, it takes this worker at once: the other
                # workers must not widen onto this core meanwhile (a 300-page job had
                # both workers load a second recognition model in such moments)
                self._pages_in_flight.value = self._in_flight
            job.running.pop(index, None)
            self._unsettled[pool] -= 1
            if self._unsettled[pool] <= 0:
                del self._unsettled[pool]
                if pool in self._draining:
                    self._draining.discard(pool)
                    _retire(pool)
            self._wake.set()

        if job.cancelled:
            if job.in_flight == 0:
                self.storage.delete_all(job.record.uuid)  # a page may have landed after the delete
            return
        if error is not None:
            job.error = job.error or error
            job.remaining.clear()
            # the job has failed: its pages still being read are stopped, not left to run
            # up to the time limit on workers others wait for
            self._stop_pages(job)
        elif self.storage.page_result(job.record.uuid, index).exists():
            job.pages_done += 1
            try:
                self.jobs.set_pages_done(job.record.uuid, job.pages_done)
            except Exception:  # progress only: the page's result is what counts
                log.exception("recording the progress of job %s failed", job.record.uuid)
        if job.in_flight == 0 and (job.error is not None or not job.remaining):
            await self._finish(job)

    async def _page_error(
        self,
        job: _ActiveJob,
        index: int,
        future: concurrent.futures.Future[PageOutcome],
        pool: pebble.ProcessPool,
    ) -> str | None:
        """Wait for the page; the message for the user when it could not be read."""
        await _settled(future)
        if future.cancelled():
            if index in job.moved:  # called back from a pool whose workers were being stopped
                job.moved.discard(index)
                job.remaining.appendleft(index)
            return None  # otherwise its job was deleted or has failed
        try:
            outcome = future.result()
        except TimeoutError:
            return (
                f"Page {index + 1} took longer than this server's limit of "
                f"{self.page_timeout:g} seconds per page, and was stopped."
            )
        except pebble.ProcessExpired as exc:
            return self._after_crash(job, index, exc)
        except BrokenProcessPool:
            # an idle worker died (above): the pages waiting in that pool are no one's
            # fault, and go back to the queue (a few times at most, should a page itself
            # break its pool before the pool knows which page it was reading)
            self._replace_pool(pool)
            job.requeues[index] += 1
            if job.requeues[index] > _MAX_REQUEUES_PER_PAGE:
                return f"The worker crashed on page {index + 1}; the page may be too large."
            job.remaining.appendleft(index)
            return None
        except Exception:
            log.exception("page %d of job %s", index + 1, job.record.uuid)
            return f"Page {index + 1} could not be processed."
        if self._max_rss is not None and outcome.worker_rss > self._max_rss:
            self._recycle_pool(pool, outcome.worker_rss)
        return outcome.error

    def _stop_pages(self, job: _ActiveJob) -> None:
        """Stop the workers reading the job's pages (deleted, or failed).

        Pebble stops a cancelled page's worker from its own thread, a moment later. A
        worker that finishes its page in that moment takes the next page given to the
        pool, and is stopped with it: that page never comes back (pebble issue #153, a
        deleted job's neighbour once waited for ever). So the pool takes no new page
        from now on: a fresh one does, and the old one is stopped once its pages are
        back. Other jobs' pages it holds that no worker has started yet are called back
        and scheduled again; those being read finish where they are.
        """
        running = [future for future in job.running.values() if not future.done()]
        if not running:
            return
        assert self._pool is not None
        old = self._pool
        self._pool = self._new_pool()
        self._drain(old)
        for other in self._jobs.values():
            if other is job:
                continue
            for index, future in list(other.running.items()):
                if not future.running() and not future.done() and future.cancel():
                    other.moved.add(index)
        for future in running:
            future.cancel()

    def _drain(self, pool: pebble.ProcessPool) -> None:
        """Give the old pool no new page, and stop it once the pages it holds are back."""
        if self._unsettled[pool] > 0:
            self._draining.add(pool)
        else:
            _retire(pool)

    def _new_pool(self) -> pebble.ProcessPool:
        # spawn, not fork: the server process runs threads and an event loop.
        return pebble.ProcessPool(
            max_workers=self.workers,
            # a worker is replaced after this many pages: what memory it leaks goes with it
            max_tasks=self._max_pages or 0,
            initializer=init_worker,
            # the workers die with this server, whatever kills it
            initargs=(os.getpid(), self._pages_in_flight, self.workers),
            context=multiprocessing.get_context("spawn"),
        )

    def _replace_pool(self, pool: pebble.ProcessPool) -> None:
        """A fresh pool for a broken one (once, however many pages report it)."""
        if self._pool is pool:
            log.error("a worker process died while idle; starting a new pool")
            self._pool = self._new_pool()
            _retire(pool)

    def _recycle_pool(self, pool: pebble.ProcessPool, rss: int) -> None:
        """Fresh workers for a pool one of whose workers outgrew its memory budget. Pages
        the old pool is reading finish there; it ends once they are done."""
        if self._pool is pool:
            log.info("a worker grew to %d MB, over its budget: starting fresh workers", rss >> 20)
            self._pool = self._new_pool()
            self._drain(pool)

    def _after_crash(self, job: _ActiveJob, index: int, exc: pebble.ProcessExpired) -> str | None:
        """The worker reading this page died (killed, out of memory). The pool replaced it,
        and only this page spends an attempt: the pages other workers read go on."""
        log.error(
            "a worker process died (exit code %s) on page %d of job %s",
            exc.exitcode,
            index + 1,
            job.record.uuid,
        )
        job.attempts[index] += 1
        if job.attempts[index] >= _MAX_ATTEMPTS_PER_PAGE:
            return f"The worker crashed on page {index + 1}; the page may be too large."
        job.remaining.appendleft(index)
        return None

    async def _finish(self, job: _ActiveJob) -> None:
        """Assemble the job (or fail and refund it). Tried again until it can be written:
        a full disk once left jobs processing for ever."""
        while True:
            try:
                job.error = await asyncio.to_thread(self.finisher.finish, job.record, job.error)
                break
            except Exception:
                if job.cancelled:
                    break
                log.exception(
                    "finishing job %s failed; trying again in %d s", job.record.uuid, _RETRY_SECONDS
                )
                await asyncio.sleep(_RETRY_SECONDS)
        self._jobs.pop(job.record.uuid, None)
        job.finished.set()


async def _settled(future: concurrent.futures.Future[Any]) -> None:
    """Wait, without blocking the event loop, until the pool's future is done (or
    cancelled: asyncio.wrap_future would raise CancelledError into the waiter then)."""
    loop = asyncio.get_running_loop()
    settled = asyncio.Event()
    future.add_done_callback(lambda _: loop.call_soon_threadsafe(settled.set))
    await settled.wait()


def _retire(pool: pebble.ProcessPool) -> None:
    """Stop a pool and its workers; they are reaped on a thread of their own."""
    pool.stop()  # type: ignore[no-untyped-call]  # (pebble's stop carries no type hints)
    threading.Thread(target=_join, args=(pool, _POOL_JOIN_SECONDS), daemon=True).start()


def _join(pool: pebble.ProcessPool, timeout: float) -> None:
    try:
        pool.join(timeout)
    except TimeoutError:
        log.warning("the workers of a stopped pool did not end in %s s", timeout)
