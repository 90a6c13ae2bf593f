# Generated from _async_client.py by scripts/unasync.py: do not edit by hand.
"""``Client``: a thin driver that carries out the flows of :mod:`ocrchat._core`.

Only this file is written by hand; ``_sync_client.py`` (``Client``) is
generated from it by ``scripts/unasync.py``, and a test checks the two agree.
Each method builds its call or flow and hands it to ``_result`` or ``_run``, which
sends, sleeps and tells the time.
"""

from __future__ import annotations

import copy
import functools
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import httpx

from ocrchat import _core
from ocrchat._core import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_SECONDS,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_POLL_TIMEOUT,
    NOT_GIVEN,
    Call,
    ClientBase,
    Flow,
    Now,
    Send,
    Sleep,
    TimeoutInput,
)
from ocrchat._files import FileInput, read_upload, replacing
from ocrchat._response import ClientWithRawResponse

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Callable

    from ocrchat.models import (
        Account,
        ChatReply,
        DeletedJob,
        DownloadFormat,
        Engines,
        History,
        Job,
        JobList,
        JobStatus,
        JobStatusName,
        JobSummary,
        Tier,
        TierName,
        ToolName,
        Tools,
    )

__all__ = ["Client"]

T = TypeVar("T")
_SelfClient = TypeVar("_SelfClient", bound="Client")


class Client(ClientBase):
    """The OCR.chat API, synchronously.

    ``api_token`` and ``base_url`` default to ``$OCRCHAT_API_TOKEN`` and
    ``$OCRCHAT_BASE_URL`` (else ``https://ocr.chat``). ``timeout`` applies
    to each request and can be overridden per call. Pass ``http_client`` to
    use your own ``httpx.Client`` (a proxy, a test transport).
    """

    def __init__(
        self,
        api_token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_token, base_url, timeout, max_retries, max_retry_seconds)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client()
        self._raw = False

    @functools.cached_property
    def with_raw_response(self) -> ClientWithRawResponse:
        """The same calls, returning the :class:`~ocrchat.APIResponse` (status, headers,
        request id; ``.parse()`` for the usual result): ``client.with_raw_response.get(job)``."""
        raw = copy.copy(self)
        raw._raw, raw._owns_http = True, False
        return ClientWithRawResponse(raw)

    def _result(self, call: Call[T]) -> T:
        if self._raw:
            # with_raw_response's copy: the APIResponse, which that namespace's types promise
            return cast("T", self._run(_core.raw_result(self._config, call)))
        return self._run(_core.result(self._config, call))

    def _run(self, flow: Flow[T]) -> T:
        reply: Any = None
        failure: Exception | None = None
        while True:
            try:
                effect = flow.throw(failure) if failure is not None else flow.send(reply)
            except StopIteration as stop:
                result: T = stop.value
                return result
            reply, failure = None, None
            if isinstance(effect, Send):
                try:
                    reply = self._send(effect)
                except httpx.TransportError as exc:
                    failure = exc
            elif isinstance(effect, Sleep):
                time.sleep(effect.seconds)
            elif isinstance(effect, Now):
                reply = time.monotonic()

    def _send(self, effect: Send) -> httpx.Response:
        response = self._http.send(effect.request, stream=True)
        try:
            if effect.into is not None and response.is_success:
                # plain writes, in the event loop too: local disk keeps up with the network
                with replacing(effect.into) as file:
                    for chunk in response.iter_bytes():
                        file.write(chunk)
            else:
                response.read()
        finally:
            response.close()
        return response

    def submit(
        self,
        file: FileInput,
        *,
        tier: Tier | TierName | None = None,
        language: str | None = None,
        tool: ToolName | None = None,
        translate_to: str | None = None,
        pages: str | None = None,
        engine: str | None = None,
        ocr: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> Job:
        """Upload a document (a path, bytes, an open binary file or a ``(filename, bytes)``
        pair) and return its job.

        A file of 5 pages or fewer comes back ``done``; a larger one
        ``pending``: :meth:`poll` it. Retries reuse one ``Idempotency-Key``.
        ``pages`` reads only those pages (``"1-3,7"``, counted from 1 as a reader does).
        ``webhook_url``: where the server POSTs the job's summary when it ends (check it
        with :func:`ocrchat.webhooks.verify`).
        ``engine`` (``auto``, ``tesseract``, ``ppocr``) and ``ocr`` (``auto``,
        ``force``, ``skip``) are the self-hosted server's cpu-tier and PDF options.
        """
        return self._result(
            _core.submit(
                self._config,
                read_upload(file),
                tier=tier,
                language=language,
                tool=tool,
                translate_to=translate_to,
                idempotency_key=idempotency_key,
                timeout=timeout,
                engine=engine,
                ocr=ocr,
                pages=pages,
                webhook_url=webhook_url,
            )
        )

    def ocr(
        self,
        file: FileInput,
        *,
        tier: Tier | TierName | None = None,
        language: str | None = None,
        tool: ToolName | None = None,
        translate_to: str | None = None,
        pages: str | None = None,
        engine: str | None = None,
        ocr: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
        interval: float = DEFAULT_POLL_INTERVAL,
        wait_timeout: float | None = DEFAULT_POLL_TIMEOUT,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        """The whole job in one call: :meth:`submit` the document, then wait for it (as
        :meth:`poll` does) and return it ``done``.

        Raises :class:`~ocrchat.JobFailedError` when the job fails, a small file read in
        the request included, and :class:`~ocrchat.PollTimeoutError` after
        ``wait_timeout`` seconds. ``on_progress`` is called with the job after every look.
        The other arguments are :meth:`submit`'s.
        """
        submitted = self.submit(
            file,
            tier=tier,
            language=language,
            tool=tool,
            translate_to=translate_to,
            pages=pages,
            engine=engine,
            ocr=ocr,
            webhook_url=webhook_url,
            idempotency_key=idempotency_key,
        )
        return self._run(
            _core.finished(
                self._config,
                submitted,
                interval=interval,
                timeout=wait_timeout,
                on_progress=on_progress,
            )
        )

    def list_jobs(
        self,
        *,
        status: JobStatus | JobStatusName | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> JobList:
        """One page of the account's jobs, newest first, without their pages: pass its
        ``next_cursor`` as ``cursor`` for the next. :meth:`jobs` walks every page."""
        return self._result(
            _core.list_jobs(
                self._config, status=status, limit=limit, cursor=cursor, timeout=timeout
            )
        )

    def jobs(
        self, *, status: JobStatus | JobStatusName | None = None, page_size: int = 100
    ) -> Iterator[JobSummary]:
        """Every job of the account, newest first (``async for`` on this client, ``for``
        on :class:`~ocrchat.Client`), fetched a page of ``page_size`` at a time as the
        loop goes: stop early and no more pages are asked for."""
        cursor: str | None = None
        while True:
            page = self.list_jobs(status=status, limit=page_size, cursor=cursor)
            for summary in page.jobs:
                yield summary
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get(self, job: Job | str, *, timeout: TimeoutInput = NOT_GIVEN) -> Job:
        """The job as it is now (one request)."""
        return self._result(_core.get(self._config, job, timeout=timeout))

    def poll(
        self,
        job: Job | str,
        *,
        interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = DEFAULT_POLL_TIMEOUT,
        on_progress: Callable[[Job], None] | None = None,
    ) -> Job:
        """Wait for the job to finish and return it done.

        Raises :class:`~ocrchat.JobFailedError` when it fails and
        :class:`~ocrchat.PollTimeoutError` after ``timeout`` seconds.
        ``on_progress`` is called with the job after every look.
        """
        return self._run(
            _core.poll(
                self._config, job, interval=interval, timeout=timeout, on_progress=on_progress
            )
        )

    @overload
    def download(
        self,
        job: Job | str,
        format: DownloadFormat,
        path: None = None,
        *,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> bytes: ...

    @overload
    def download(
        self,
        job: Job | str,
        format: DownloadFormat,
        path: str | os.PathLike[str],
        *,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> Path: ...

    def download(
        self,
        job: Job | str,
        format: DownloadFormat,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> bytes | Path:
        """The finished job as a file, ``format`` one of :data:`ocrchat.DOWNLOAD_FORMATS`:
        its bytes, or with ``path`` the ``Path`` it was written to.

        To a path the file is streamed, never whole in memory, through a temporary file
        beside it: a download that fails leaves no partial file.
        """
        if path is None:
            return self._result(_core.download(self._config, job, format, timeout=timeout))
        return self._result(
            _core.download_to(self._config, job, format, Path(path), timeout=timeout)
        )

    def chat(
        self,
        job: Job | str,
        message: str,
        *,
        conversation: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> ChatReply:
        """Ask about a finished job; pass ``conversation`` to continue one."""
        return self._result(
            _core.chat(self._config, job, message, conversation=conversation, timeout=timeout)
        )

    def history(self, job: Job | str, *, timeout: TimeoutInput = NOT_GIVEN) -> History:
        """Every conversation about the job, messages in order."""
        return self._result(_core.history(self._config, job, timeout=timeout))

    def account(self, *, timeout: TimeoutInput = NOT_GIVEN) -> Account:
        """The token's account: plan, usage and caps."""
        return self._result(_core.account(self._config, timeout=timeout))

    def tools(self, *, timeout: TimeoutInput = NOT_GIVEN) -> Tools:
        """The tools the server offers (``tool=<slug>``), and whether each can run now."""
        return self._result(_core.tools(self._config, timeout=timeout))

    def engines(self, *, timeout: TimeoutInput = NOT_GIVEN) -> Engines:
        """Each tier's engine: ready or not, its version and installed languages."""
        return self._result(_core.engines(self._config, timeout=timeout))

    def delete(self, job: Job | str, *, timeout: TimeoutInput = NOT_GIVEN) -> DeletedJob:
        """Delete the job and its results now; ``refunded``: the pages given back (those not
        read yet)."""
        return self._result(_core.delete(self._config, job, timeout=timeout))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self: _SelfClient) -> _SelfClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
