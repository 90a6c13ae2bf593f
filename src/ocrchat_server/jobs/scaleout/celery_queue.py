"""The scale-out page queue: Celery over Redis, one task per page.

- **Late acknowledgement.** A page's task is acknowledged once the page is
  read; a worker killed mid-page leaves it unacknowledged, and Redis hands it
  to another worker once the visibility timeout has passed
  (``--page-visibility-timeout``, sized to a page, not to a document).
- **Fan-out, fairly.** A job has at most ``pages_in_flight_per_job`` pages in
  the broker at once; each page read sends the job's next one. Every worker
  reads pages of every job, and a long job's pages never stand all at once
  before another account's one-page job.
- **Priority.** Redis priority lists: a small file whose request waits goes
  first, then paid plans (higher plan priority), then the rest.
- **Exactly once.** A page read twice writes the same result file; PostgreSQL
  counts it read once (``job_pages``), and exactly one worker assembles the
  job. The charge was taken once, when the job was inserted.
- **Never lost.** A page is marked sent in the same transaction that sends
  it, committed after the broker has it: a process killed in between leaves
  it unsent and unclaimed, for the page task that comes back to send. A send
  the broker refused (unreachable, out of memory) leaves the job with no page
  in the broker: every API server looks for such jobs each ``sweep_interval``
  and sends the pages of one it finds idle twice with no page read between.
  Pages the broker took and then lost (a Redis restarted without its data, a
  replica that lacked the last writes promoted) are sent again once their job
  has not moved, by PostgreSQL's clock, for the visibility timeout and the
  page time limit together.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from typing import TYPE_CHECKING, Any, ClassVar

from celery import Celery, signals
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerError

from ocrchat.models import JobStatus
from ocrchat_server.jobs.assembly import JobFinisher
from ocrchat_server.jobs.embedded.local_storage import LocalStorage
from ocrchat_server.jobs.worker import PageTask, init_worker, run_page

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocrchat_server.engines.vlm_server import SuryaConnection
    from ocrchat_server.jobs.records import JobRecord
    from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore
    from ocrchat_server.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "ocrchat-pages"
MAX_ATTEMPTS_PER_PAGE = 2
"""Deliveries of one page (a worker died reading it) before its job is failed."""
_INLINE_PRIORITY = 0
_HARD_LIMIT_MARGIN = 30
"""Seconds between a page's soft time limit and its worker's being killed."""
_POLL_SECONDS = 0.2

READ_PAGE = "ocrchat.read_page"

app = Celery("ocrchat")
"""The workers' app, where the page task is registered (``ocrchat-server worker``)."""


def configure(settings: Settings, celery: Celery = app) -> Celery:
    """Point a Celery app at the settings' broker, with the page queue's behaviour."""
    if settings.page_timeout:
        seconds = settings.page_timeout.total_seconds()
        # the soft limit stops the page with a clear error (and the rasterizer with it);
        # the hard one kills a worker stuck where the soft one cannot reach
        celery.conf.update(
            task_soft_time_limit=seconds, task_time_limit=seconds + _HARD_LIMIT_MARGIN
        )
    visibility = int(settings.page_visibility_timeout.total_seconds())
    celery.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        task_default_queue=QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        # a child process killed mid-page: the page goes back to the queue, not lost
        task_reject_on_worker_lost=True,
        # one page at a time per slot: pages are long, and prefetched ones would wait
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_transport_options={
            "visibility_timeout": visibility,
            # each worker looks for pages whose worker died every few seconds: kombu's own
            # default (every 10th of 10 s ticks) left such a page 100 s past its timeout
            "unacked_restore_interval": max(1, min(10, visibility // 4)),
            "unacked_restore_throttle": 1,
            # a worker killed mid-sweep holds the sweep's lock until it expires (kombu's
            # default: 5 minutes); a sweep takes milliseconds
            "unacked_mutex_expire": 30,
            "priority_steps": list(range(10)),
            "sep": ":",
            "queue_order_strategy": "priority",
        },
    )
    return celery


def broker_priority(plan_priority: int, *, inline: bool) -> int:
    """Redis priority (0 first, 9 last): inline pages first, then by plan priority."""
    if inline:
        return _INLINE_PRIORITY
    return max(1, 8 - plan_priority // 2)


def page_task_id(uuid: str, index: int) -> str:
    """One id per page, whichever delivery: a deleted job's pages can be revoked by it."""
    return f"{uuid}:{index}"


def send_next_pages(
    celery: Celery,
    store: PostgresStore,
    record: JobRecord,
    count: int,
    priority: int,
    *,
    only_if_idle: bool = False,
) -> None:
    """Send the job's next ``count`` pages not yet sent. They are claimed and sent in one
    transaction, committed once the broker has them (``claiming_pages_to_send``): a send
    the broker refuses raises :class:`BrokerError` and leaves them unclaimed."""
    with store.claiming_pages_to_send(record.uuid, count, only_if_idle=only_if_idle) as positions:
        for position in positions:
            _send_page(celery, record, position, priority)


def _send_page(celery: Celery, record: JobRecord, position: int, priority: int) -> None:
    # the ledger counts positions in the pages to read, which a selection skips
    index = record.page_indexes[position]
    celery.send_task(
        READ_PAGE,
        args=(record.uuid, index, priority),
        priority=priority,
        task_id=page_task_id(record.uuid, index),
    )


class CeleryQueue:
    """A :class:`~ocrchat_server.jobs.interfaces.PageQueue` whose pages any worker reads."""

    def __init__(self, *, store: PostgresStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        # an app of its own (tasks are sent by name): a process may hold several queues
        # over its life (tests do), each on its own broker
        self.celery = configure(settings, Celery("ocrchat-api"))

    async def run(self) -> None:
        """The workers take their pages from the broker; this only sends again the pages
        of jobs left with none there, or whose pages the broker lost (module docstring,
        "Never lost")."""
        idle_before: dict[str, int] = {}
        while True:
            await asyncio.sleep(self.settings.sweep_interval.total_seconds())
            idle_before = await asyncio.to_thread(self._send_pages_of_idle_jobs, idle_before)
            await asyncio.to_thread(self._send_lost_pages_again)

    def _send_lost_pages_again(self) -> None:
        """Send again the pages sent but not read of jobs that have not moved for longer
        than a page may take: longer than the visibility timeout (after which Redis gives
        a page whose worker died to another) and the page time limit together."""
        quiet_for = self.settings.page_visibility_timeout + (
            self.settings.page_timeout or dt.timedelta(0)
        )
        for record in self.store.stalled_jobs(quiet_for):
            priority = broker_priority(record.priority, inline=False)
            try:
                with self.store.claiming_unread_pages(record, quiet_for) as positions:
                    for position in positions:
                        _send_page(self.celery, record, position, priority)
            except BrokerError as exc:
                log.warning("job %s: the broker refused its lost pages (%s)", record.uuid, exc)
                continue
            if positions:
                log.warning(
                    "job %s: no page of it read or sent for %s; the broker lost %d of its"
                    " pages, sent again",
                    record.uuid,
                    quiet_for,
                    len(positions),
                )

    def _send_pages_of_idle_jobs(self, idle_before: dict[str, int]) -> dict[str, int]:
        """Send the next pages of the jobs idle now that were idle at the last sweep with
        the same pages read. Returns the jobs idle now, with their pages read."""
        idle = self.store.idle_jobs()
        for record in idle:
            if idle_before.get(record.uuid) == record.pages_done:
                log.warning(
                    "job %s: no page of it in the broker since %d of %d pages were read"
                    " (a send was refused); sending its next pages",
                    record.uuid,
                    record.pages_done,
                    record.pages_to_read,
                )
                self._send(record, inline=False, only_if_idle=True)
        return {record.uuid: record.pages_done for record in idle}

    def recover(self) -> None:
        """Send the first pages of jobs whose API server stopped before it sent any."""
        for record in self.store.jobs_with_status(JobStatus.PENDING):
            self._send(record, inline=False)

    def enqueue(self, record: JobRecord) -> None:
        self._send(record, inline=False)

    async def run_inline(self, record: JobRecord) -> None:
        if self._send(record, inline=True):
            await self.wait_until_finished(record)
        # else: nothing to wait for until the broker is back; the POST answers 202

    async def wait_until_finished(self, record: JobRecord) -> None:
        deadline = asyncio.get_running_loop().time() + self.settings.inline_wait.total_seconds()
        while asyncio.get_running_loop().time() < deadline:
            current = await asyncio.to_thread(self.store.get_job, record.uuid)
            if current is None or current.status.finished:
                return
            await asyncio.sleep(_POLL_SECONDS)

    def cancel(self, uuid: str, *, pages: Sequence[int] = ()) -> None:
        """A deleted job has no row: its tasks still in the broker find none and end. Its
        pages being read are revoked, which kills their worker processes (and the
        rasterizers they started); Celery starts fresh ones, and the killed pages' tasks,
        given back by the broker, find no job either."""
        if pages:
            self.celery.control.revoke(
                [page_task_id(uuid, index) for index in pages],
                terminate=True,
                signal="SIGKILL",
            )

    def is_active(self, uuid: str) -> bool:
        record = self.store.get_job(uuid)
        return record is not None and not record.status.finished

    def _send(self, record: JobRecord, *, inline: bool, only_if_idle: bool = False) -> bool:
        """Send the job's first pages (its window); False where the broker refused them,
        which leaves them to the sweep (:meth:`run`)."""
        window = record.pages_to_read if inline else self.settings.pages_in_flight_per_job
        priority = broker_priority(record.priority, inline=inline)
        try:
            send_next_pages(
                self.celery, self.store, record, window, priority, only_if_idle=only_if_idle
            )
        except BrokerError as exc:
            log.warning(
                "job %s: the broker refused its pages (%s); sent again later", record.uuid, exc
            )
            return False
        return True


class WorkerContext:
    """What a worker process reads pages with: made once per process, after the fork."""

    configured: ClassVar[Settings | None] = None
    """Set by ``ocrchat-server worker`` before the worker starts."""
    _current: ClassVar[WorkerContext | None] = None

    def __init__(self, settings: Settings) -> None:
        from ocrchat_server.engines.vlm_server import configured_connection
        from ocrchat_server.jobs.scaleout.postgres_store import PostgresStore

        assert settings.database_url is not None
        assert settings.storage is not None
        self.settings = settings
        self.pid = os.getpid()
        self.store = PostgresStore(settings.database_url, max_connections=2)
        self.storage = LocalStorage(settings.storage)
        self.finisher = JobFinisher.configured(
            settings, jobs=self.store, charges=self.store, storage=self.storage
        )
        self.vlm: SuryaConnection | None = configured_connection(settings)

    @classmethod
    def current(cls) -> WorkerContext:
        # a pool made in the parent must not be shared by forked children: one per process
        if cls._current is None or cls._current.pid != os.getpid():
            assert cls.configured is not None, "ocrchat-server worker sets the settings"
            cls._current = cls(cls.configured)
        return cls._current

    def fail(self, uuid: str, error: str) -> None:
        self.finisher.fail(uuid, error)
        self.storage.delete_upload(uuid)

    def read_page(self, uuid: str, index: int, priority: int) -> None:
        store, storage = self.store, self.storage
        record = store.get_job(uuid)
        if record is None or record.status.finished:
            return  # deleted, failed or expired meanwhile: nothing to do
        attempts = store.count_attempt(uuid, index)
        if attempts > MAX_ATTEMPTS_PER_PAGE:
            self.fail(uuid, f"The worker crashed on page {index + 1}; the page may be too large.")
            return
        if not storage.page_result(uuid, index).exists():  # not read by an earlier delivery
            store.mark_processing(uuid)
            timeout = self.settings.page_timeout
            task = PageTask.of(
                record,
                index,
                storage,
                preparation=self.settings.preparation,
                vlm=self.vlm,
                page_timeout=timeout.total_seconds() if timeout else None,
            )
            outcome = run_page(task, time_limit_errors=(SoftTimeLimitExceeded,))
            if store.get_job(uuid) is None:
                storage.delete_all(uuid)  # deleted while the page was read
                return
            if outcome.error is not None:
                self.fail(uuid, outcome.error)
                return
        done = store.mark_page_done(uuid, index)
        try:
            send_next_pages(app, store, record, 1, priority)
        except BrokerError as exc:
            # the page is read and counted; the API servers' sweep sends the next one
            log.warning("job %s: the broker refused its next page (%s)", uuid, exc)
        stale_after = self.settings.page_visibility_timeout
        if done >= record.pages_to_read and store.claim_assembly(uuid, stale_after=stale_after):
            self.finisher.finish(record, None)


@app.task(name=READ_PAGE)
def read_page(uuid: str, index: int, priority: int) -> None:
    WorkerContext.current().read_page(uuid, index, priority)


@signals.worker_process_init.connect
def _init_worker_process(**_: Any) -> None:
    init_worker()
