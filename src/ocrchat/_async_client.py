"""``AsyncClient``: a thin driver that carries out the flows of :mod:`ocrchat._core`.

Only this file is written by hand; ``_sync_client.py`` (``Client``) is
generated from it by ``scripts/unasync.py``, and a test checks the two agree.
Each method builds its call or flow and hands it to ``_result`` or ``_run``, which
sends, sleeps and tells the time.
"""

from __future__ import annotations

import asyncio
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
from ocrchat._response import AsyncClientWithRawResponse

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterator, Callable

    from ocrchat.models import (
        Account,
        ApiToken,
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
        NewApiToken,
        Tier,
        TierName,
        ToolName,
        Tools,
    )

__all__ = ["AsyncClient"]

T = TypeVar("T")
_SelfAsyncClient = TypeVar("_SelfAsyncClient", bound="AsyncClient")


class AsyncClient(ClientBase):
    """The OCR.chat API, asynchronously.

    ```python
    async with AsyncClient() as client:  # $OCRCHAT_API_TOKEN, $OCRCHAT_BASE_URL
        job = await client.ocr("invoice.pdf")
        print(job.markdown)
    ```

    Open it with ``async with AsyncClient() as client:``, or call ``aclose()`` when done.

    A request that cannot connect, times out, or answers 408, 429, 500, 502, 504 or 503
    with ``Retry-After`` is tried again, after the server's ``Retry-After`` or
    ``0.5 * 2**n`` seconds (at most 8, jittered). A submit is sent again with the same
    ``Idempotency-Key``, so a job is never made or charged twice. A successful answer
    whose body is not what the API sends (a proxy's login page) raises
    ``APIResponseValidationError``.

    Args:
        api_token: The API token (``ocr_...``); by default ``$OCRCHAT_API_TOKEN``.
        base_url: The server's root URL, such as ``http://127.0.0.1:8000`` (a path prefix
            is kept); by default ``$OCRCHAT_BASE_URL``, else ``https://ocr.chat``.
        timeout: Seconds for each request (a number, an ``httpx.Timeout``, or None for no
            limit); by default 120 seconds, 10 of them to connect. Each method that
            makes a request takes its own ``timeout`` too.
        max_retries: The most times one request is tried again (3).
        max_retry_seconds: The most seconds one request's tries may take in all (60).
        http_client: Your own ``httpx.AsyncClient`` (a proxy, a test transport). This
            client does not close it.

    Raises:
        ConfigurationError: No API token, or a base URL that is not
            ``http(s)://host[:port][/path]``.
    """

    def __init__(
        self,
        api_token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_token, base_url, timeout, max_retries, max_retry_seconds)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient()
        self._raw = False

    @functools.cached_property
    def with_raw_response(self) -> AsyncClientWithRawResponse:
        """The same calls, each returning the ``APIResponse`` (status, headers, request id;
        ``.parse()`` for the usual result): ``await client.with_raw_response.get(job)``.

        It holds the calls of one request: ``submit``, ``get``, ``download``, ``chat``,
        ``history``, ``account``, ``tools``, ``engines`` and ``delete``."""
        raw = copy.copy(self)
        raw._raw, raw._owns_http = True, False
        return AsyncClientWithRawResponse(raw)

    async def _result(self, call: Call[T]) -> T:
        if self._raw:
            # with_raw_response's copy: the APIResponse, which that namespace's types promise
            return cast("T", await self._run(_core.raw_result(self._config, call)))
        return await self._run(_core.result(self._config, call))

    async def _run(self, flow: Flow[T]) -> T:
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
                    reply = await self._send(effect)
                except httpx.TransportError as exc:
                    failure = exc
            elif isinstance(effect, Sleep):
                await asyncio.sleep(effect.seconds)
            elif isinstance(effect, Now):
                reply = time.monotonic()

    async def _send(self, effect: Send) -> httpx.Response:
        response = await self._http.send(effect.request, stream=True)
        try:
            if effect.into is not None and response.is_success:
                # plain writes, in the event loop too: local disk keeps up with the network
                with replacing(effect.into) as file:
                    async for chunk in response.aiter_bytes():
                        file.write(chunk)
            else:
                await response.aread()
        finally:
            await response.aclose()
        return response

    async def submit(
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
        """Upload a document and return its job.

        A file of 5 pages or fewer is read before the answer and comes back ``done`` (or
        ``failed``, which ``submit`` returns as it is and ``ocr`` raises); a larger one
        comes back ``pending``: ``poll`` it, or call ``ocr`` for the whole job in one
        call. The pages read are charged to the account.

        Args:
            file: The document: a path, bytes, an open binary file or a
                ``(filename, bytes)`` pair. PNG, JPEG, WEBP, GIF, BMP, TIFF (each frame a
                page) or PDF.
            tier: ``cpu`` (the default: Tesseract and PP-OCRv6, fast, for print) or ``vlm``
                (Surya: handwriting, complex layouts, tables, math), as a ``Tier`` or its
                value.
            language: ``auto`` (the default) or a language code: ISO 639-1 (``en``,
                ``de``) or Tesseract's (``deu``), several joined with ``+``.
            tool: A preset: ``extract-tables``, ``handwriting-to-text`` or ``translate``
                (with ``translate_to``); ``tools()`` says which can run now.
            translate_to: The language to translate into, with ``tool="translate"``.
            pages: Only these pages are read and charged, counted from 1 as a reader
                does: ``"3"``, ``"1-3,7"``, ``"10-"`` (page 10 to the end). The job shows
                them as ``page_selection``.
            engine: The cpu tier's recognizer, on a self-hosted server: ``auto`` (the
                default), ``tesseract`` or ``ppocr``.
            ocr: For a PDF, on a self-hosted server: ``auto`` (the default: a page's own
                text when it is exact), ``force`` (OCR every page) or ``skip`` (never OCR).
            webhook_url: Where the server POSTs the job's summary, signed, when it ends
                (check it with ``ocrchat.webhooks.verify``); by default the account's.
            idempotency_key: The ``Idempotency-Key`` to send (1 to 255 printable ASCII
                characters); by default a new one for each call, the same on every retry.
                A key sent again returns its first job, not charged again.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``. A small file is read before
                the answer: leave time for it.

        Returns:
            The job, ``done`` or ``failed`` for 5 pages or fewer, else ``pending`` (or
                ``processing``).

        Raises:
            BadRequestError: The file or a parameter was refused (``code`` says which).
            QuotaExceededError: The account has not enough pages left; nothing was
                charged.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(
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

    async def ocr(
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
        words: bool = False,
    ) -> Job:
        """The whole job in one call: ``submit`` the document, wait until it is done (as
        ``poll`` does) and return it.

        Args:
            file: The document, as ``submit`` takes it.
            tier: As for ``submit``.
            language: As for ``submit``.
            tool: As for ``submit``.
            translate_to: As for ``submit``.
            pages: As for ``submit``.
            engine: As for ``submit``.
            ocr: As for ``submit``.
            webhook_url: As for ``submit``.
            idempotency_key: As for ``submit``.
            interval: Seconds between looks at the job (2), or longer when the server's
                ``Retry-After`` asks.
            wait_timeout: Seconds to wait for the job in all (1800), not per request;
                None waits as long as it takes.
            on_progress: Called with the job after every look (once, for a file read in
                the request), e.g. to show ``job.progress``.
            words: Return the job with each block's ``words`` (as ``get(job, words=True)``
                does): one more request once it is done.

        Returns:
            The done job, with its text, Markdown and pages (and words, with ``words``).

        Raises:
            JobFailedError: The job failed, a small file read in the request included;
                ``error.job.error`` says why.
            PollTimeoutError: The job was still running after ``wait_timeout`` seconds.
                It goes on: ``poll`` it to wait longer.
            BadRequestError: The file or a parameter was refused (``code`` says which).
            QuotaExceededError: The account has not enough pages left; nothing was
                charged.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        submitted = await self.submit(
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
        return await self._run(
            _core.finished(
                self._config,
                submitted,
                interval=interval,
                timeout=wait_timeout,
                on_progress=on_progress,
                words=words,
            )
        )

    async def list_jobs(
        self,
        *,
        status: JobStatus | JobStatusName | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> JobList:
        """One page of the account's jobs, newest first, without their pages and text.

        Pass its ``next_cursor`` as ``cursor`` for the next page; ``jobs`` walks every page
        for you.

        Args:
            status: Only the jobs with this status: a ``JobStatus`` (but ``UNKNOWN``) or
                its value, such as ``"done"``. None lists every job.
            limit: The most jobs on the page, 1 to 100; by default the server's (20).
            cursor: The ``next_cursor`` of the page before, for the next (older) jobs;
                None for the newest.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The page's jobs as ``JobSummary`` objects, and its ``next_cursor`` (None on the
                last page).

        Raises:
            BadRequestError: A ``status``, ``limit`` or ``cursor`` the server does not take.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(
            _core.list_jobs(
                self._config, status=status, limit=limit, cursor=cursor, timeout=timeout
            )
        )

    async def jobs(
        self, *, status: JobStatus | JobStatusName | None = None, page_size: int = 100
    ) -> AsyncIterator[JobSummary]:
        """Every job of the account, newest first, fetched a page at a time as the loop
        goes.

        ```python
        async for summary in client.jobs(status="done"):
            print(summary.uuid, summary.filename, summary.created_at)
        ```

        Stop the loop early and no more pages are asked for.

        Args:
            status: Only the jobs with this status, as ``list_jobs`` takes it.
            page_size: The jobs asked for in each request, 1 to 100.

        Yields:
            (JobSummary): Each job, without its pages and text (``get`` fetches the whole
                job).

        Raises:
            BadRequestError: A ``status`` or ``page_size`` the server does not take.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        cursor: str | None = None
        while True:
            page = await self.list_jobs(status=status, limit=page_size, cursor=cursor)
            for summary in page.jobs:
                yield summary
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(
        self, job: Job | str, *, words: bool = False, timeout: TimeoutInput = NOT_GIVEN
    ) -> Job:
        """The job as it is now, in one request (``poll`` waits for it to finish).

        Args:
            job: The job, or its ``uuid``.
            words: Include each block's ``words`` (``Word``: text, box, confidence, and
                whether the box is estimated), asked for with ``?detail=words``. They are
                left out by default (``Block.words`` is None) to keep the answer small.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The job, with its ``progress`` while it runs, and its text and pages once done.

        Raises:
            NotFoundError: No such job for this token.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.get(self._config, job, timeout=timeout, words=words))

    async def poll(
        self,
        job: Job | str,
        *,
        interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = DEFAULT_POLL_TIMEOUT,
        on_progress: Callable[[Job], None] | None = None,
        words: bool = False,
    ) -> Job:
        """Wait for the job to finish and return it done.

        Looks at the job every ``interval`` seconds, or less often when the server's
        ``Retry-After`` asks.

        Args:
            job: The job, or its ``uuid``.
            interval: Seconds between looks (2).
            timeout: Seconds to wait in all (1800), not per request; None waits as long as
                it takes.
            on_progress: Called with the job after every look, e.g. to show
                ``job.progress``.
            words: Return the done job with each block's ``words`` (as
                ``get(job, words=True)`` does): one more request once it is done.

        Returns:
            The done job, with its text, Markdown and pages (and words, with ``words``).

        Raises:
            JobFailedError: The job failed; ``error.job.error`` says why.
            PollTimeoutError: The job was still running after ``timeout`` seconds. It goes
                on: ``poll`` it again to wait longer.
            NotFoundError: No such job for this token.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._run(
            _core.poll(
                self._config,
                job,
                interval=interval,
                timeout=timeout,
                on_progress=on_progress,
                words=words,
            )
        )

    @overload
    async def download(
        self,
        job: Job | str,
        format: DownloadFormat,
        path: None = None,
        *,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> bytes: ...

    @overload
    async def download(
        self,
        job: Job | str,
        format: DownloadFormat,
        path: str | os.PathLike[str],
        *,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> Path: ...

    async def download(
        self,
        job: Job | str,
        format: DownloadFormat,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> bytes | Path:
        """The done job as a file: its bytes, or written to ``path``.

        To a path the file is streamed, never whole in memory, through a temporary file
        beside it: a download that fails leaves no partial file, and an older file at
        ``path`` stays whole until the new one is.

        Args:
            job: The job, or its ``uuid``.
            format: One of ``ocrchat.DOWNLOAD_FORMATS``: ``txt``, ``md``, ``json``, ``pdf``
                (searchable), ``docx``, ``xlsx``, ``csv``, or the archives' ``hocr``,
                ``alto`` and ``page`` (a ZIP of PAGE-XML files).
            path: Where to write the file; None returns its bytes.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The file's bytes, or with ``path`` the ``Path`` it was written to.

        Raises:
            JobNotReadyError: The job is not done yet.
            JobFailedError: The job failed, so there is no file.
            BadRequestError: A format the server does not write.
            NotFoundError: No such job for this token.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        if path is None:
            return await self._result(_core.download(self._config, job, format, timeout=timeout))
        return await self._result(
            _core.download_to(self._config, job, format, Path(path), timeout=timeout)
        )

    async def chat(
        self,
        job: Job | str,
        message: str,
        *,
        conversation: str | None = None,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> ChatReply:
        """Ask a question about a done job; the answer comes from its text, with
        citations.

        When the text does not hold the answer, the reply says so (``The document does
        not say.``) instead of guessing.

        Args:
            job: The job, or its ``uuid``.
            message: The question, at most 4,000 characters.
            conversation: A ``ChatReply.conversation`` to continue; None starts a new
                conversation.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The reply: the answer in ``message``, whose ``citations`` give the page and
                line, and the ``conversation`` to continue.

        Raises:
            JobNotReadyError: The job is not done yet.
            JobFailedError: The job failed, so there is no text to ask about.
            BadRequestError: An empty or too long message, or a malformed conversation id.
            NotFoundError: No such job for this token, or a conversation not of this job.
            ServerError: The server's language model failed (502) or was too slow (504).
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(
            _core.chat(self._config, job, message, conversation=conversation, timeout=timeout)
        )

    async def history(self, job: Job | str, *, timeout: TimeoutInput = NOT_GIVEN) -> History:
        """Every conversation about the job, messages in order.

        Args:
            job: The job, or its ``uuid``.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The job's conversations, oldest first, each with its questions and answers.

        Raises:
            NotFoundError: No such job for this token.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.history(self._config, job, timeout=timeout))

    async def account(self, *, timeout: TimeoutInput = NOT_GIVEN) -> Account:
        """The token's account: its plan, pages used, caps, credits and webhook settings.

        Args:
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The account, with ``usage`` against ``caps``, when they ``resets``, its
                ``credits`` and ``costs``, and the ``webhook_secret`` that
                ``ocrchat.webhooks.verify`` checks deliveries with.

        Raises:
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.account(self._config, timeout=timeout))

    async def update_account(
        self,
        *,
        webhook_url: str | None = NOT_GIVEN,
        rotate_webhook_secret: bool = False,
        timeout: TimeoutInput = NOT_GIVEN,
    ) -> Account:
        """Change the account's webhook settings (self-hosted servers).

        Args:
            webhook_url: Where the account's finished jobs are POSTed when a submit names no
                ``webhook_url``; None removes it. Left out, it stays as it is.
            rotate_webhook_secret: True for a new signing key, used alone from now on
                (``Account.webhook_secret`` shows it).
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The account as it is after the change.

        Raises:
            ValueError: Neither ``webhook_url`` nor ``rotate_webhook_secret`` was given.
            BadRequestError: The URL is refused (``invalid_webhook_url``): not http(s), does
                not resolve, or a private address the server does not deliver to.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401).
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(
            _core.update_account(
                self._config,
                webhook_url=webhook_url,
                rotate_webhook_secret=rotate_webhook_secret,
                timeout=timeout,
            )
        )

    async def tokens(self, *, timeout: TimeoutInput = NOT_GIVEN) -> list[ApiToken]:
        """The account's API tokens (self-hosted servers): key ids and when each was made,
        never the tokens themselves, which the server does not keep.

        Args:
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            Every token of the account, newest first: its ``key_id`` (the part of the token
                after ``ocr_``) and ``created_at``.

        Raises:
            APIStatusError: Any error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.tokens(self._config, timeout=timeout))

    async def create_token(self, *, timeout: TimeoutInput = NOT_GIVEN) -> NewApiToken:
        """A new API token for the account (self-hosted servers), beside the ones it has.

        A request retried after its answer was lost may leave a token nobody has seen:
        ``tokens()`` lists it, and ``revoke_token`` removes it.

        Args:
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The new ``token``, shown only now (the server keeps only its hash: store it), its
                ``key_id`` and ``created_at``.

        Raises:
            APIStatusError: Any error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.create_token(self._config, timeout=timeout))

    async def revoke_token(self, key_id: str, *, timeout: TimeoutInput = NOT_GIVEN) -> None:
        """Revoke one of the account's API tokens (self-hosted servers): it stops working at
        once, and the web app's sessions signed in with it end. The client's own token may
        be revoked too, though not the account's last one.

        Args:
            key_id: The token's ``key_id``, as ``tokens()`` lists it.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Raises:
            NotFoundError: The account has no token with that key id (``token_not_found``).
            ConflictError: 409 ``last_token``: it is the account's only token.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401)
                for a missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        await self._result(_core.revoke_token(self._config, key_id, timeout=timeout))

    async def tools(self, *, timeout: TimeoutInput = NOT_GIVEN) -> Tools:
        """The tools the server offers (``tool=`` on submit), and whether each can run now.

        Args:
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            Every ``Tool``: its ``slug``, ``tiers``, whether it is ``ready``, and if not,
                why (``detail``).

        Raises:
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.tools(self._config, timeout=timeout))

    async def engines(self, *, timeout: TimeoutInput = NOT_GIVEN) -> Engines:
        """What reads each tier: ready or not, its version and installed languages.

        Args:
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            One ``Engine`` per tier: ``ready``, ``version``, ``languages``, and if not
                ready, why (``detail``).

        Raises:
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.engines(self._config, timeout=timeout))

    async def delete(self, job: Job | str, *, timeout: TimeoutInput = NOT_GIVEN) -> DeletedJob:
        """Delete the job now: its files, results and conversations.

        A running job stops, and the pages it had not read yet are given back.

        Args:
            job: The job, or its ``uuid``.
            timeout: Seconds for this request (a number, an ``httpx.Timeout``, or None for no
                limit) instead of the client's ``timeout``.

        Returns:
            The deleted job's ``uuid`` and the pages given back (``refunded``).

        Raises:
            NotFoundError: No such job for this token.
            APIStatusError: Any other error status, such as ``AuthenticationError`` (401) for a
                missing or unknown token.
            APIConnectionError: The server could not be reached, or did not answer in time
                (``APITimeoutError``), on the last of the retries.
        """
        return await self._result(_core.delete(self._config, job, timeout=timeout))

    async def aclose(self) -> None:
        """Close the client's connections (not those of an ``http_client`` passed in).
        Leaving the ``async with AsyncClient() as client:`` block does it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: _SelfAsyncClient) -> _SelfAsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
