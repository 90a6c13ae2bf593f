"""The API's routes. Each handler authenticates, calls the jobs or chat layer, and shapes
the answer; it reaches no store, file or engine itself."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ocrchat import __version__
from ocrchat._serde import unstructure
from ocrchat.models import DeletedJob, History, JobStatus, RevokedToken, TokenList
from ocrchat_server.chat.service import MAX_MESSAGE
from ocrchat_server.http.auth import require_account
from ocrchat_server.http.errors import bad_request
from ocrchat_server.http.openapi import openapi_document
from ocrchat_server.http.uploads import receive_upload, safe_filename
from ocrchat_server.jobs.service import DOWNLOAD_MEDIA_TYPES, SubmitOptions, wants_words

if TYPE_CHECKING:
    from starlette.requests import Request

    from ocrchat_server.app import Services
    from ocrchat_server.jobs.records import Account, JobRecord

_POLL_AFTER_SECONDS = "2"
_MAX_IDEMPOTENCY_KEY = 255
_MAX_DOWNLOAD_NAME = 255
_JSON = "application/json"


def _services(request: Request) -> Services:
    services: Services = request.state.services
    return services


# Every call into the records goes off the event loop: in the scale-out mode each is a
# round trip to PostgreSQL, and the loop serves every other client meanwhile.


async def _caller(request: Request) -> tuple[Services, Account]:
    services = _services(request)
    account = await asyncio.to_thread(require_account, request, services.accounts)
    if services.rate_limit is not None:
        await services.rate_limit.check(account.id)
    return services, account


async def _job_of_caller(request: Request) -> tuple[Services, JobRecord]:
    services, account = await _caller(request)
    job_id = request.path_params["uuid"]
    return services, await asyncio.to_thread(services.jobs.get, account, job_id)


async def _job_response(
    services: Services, record: JobRecord, status_code: int = 200, *, detail: str | None = None
) -> Response:
    headers = {} if record.status.finished else {"Retry-After": _POLL_AFTER_SECONDS}
    # only the default body is kept: what polls ask for again and again (one with words is
    # several times its size, and asked for once)
    cached = record.status is JobStatus.DONE and detail is None
    body = services.job_bodies.get(record.uuid) if cached else None
    if body is None:
        # a long document's job.json runs to megabytes: read, shaped and serialized off
        # the event loop, so that other clients' polls do not wait behind it
        view = await asyncio.to_thread(services.jobs.view, record, detail=detail)
        rendered = await asyncio.to_thread(lambda: JSONResponse(unstructure(view)))
        body = bytes(rendered.body)
        # kept once nothing in it changes: a webhook still being delivered does
        if cached and (view.webhook is None or view.webhook.status != "pending"):
            services.job_bodies.put(record.uuid, body)
    return Response(body, status_code=status_code, headers=headers, media_type=_JSON)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= _MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise bad_request(
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {_MAX_IDEMPOTENCY_KEY} printable ASCII characters.",
        )
    return key


async def submit_job(request: Request) -> Response:
    services, account = await _caller(request)
    key = _idempotency_key(request)
    settings = services.settings
    idle = settings.body_timeout.total_seconds() if settings.body_timeout else None
    async with receive_upload(request, settings.max_upload_bytes, idle_timeout=idle) as received:
        submitted = await services.jobs.submit(
            account,
            upload=received.file,
            filename=received.filename,
            options=SubmitOptions.from_form(received.fields),
            idempotency_key=key,
        )
    record = submitted.record
    response = await _job_response(services, record, 200 if record.status.finished else 202)
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def list_jobs(request: Request) -> Response:
    services, account = await _caller(request)
    query = request.query_params
    listed = await asyncio.to_thread(
        services.jobs.list,
        account,
        status=query.get("status") or None,
        limit=query.get("limit") or None,
        cursor=query.get("cursor") or None,
    )
    return JSONResponse(unstructure(listed))


async def get_job(request: Request) -> Response:
    """``?detail=words``: the blocks' words too (the default leaves them out)."""
    services, record = await _job_of_caller(request)
    detail = request.query_params.get("detail") or None
    wants_words(detail)  # an unknown detail is refused before the cached body is sent
    return await _job_response(services, record, detail=detail)


async def delete_job(request: Request) -> Response:
    services, record = await _job_of_caller(request)
    refunded = await services.jobs.delete(record)
    deleted = DeletedJob(uuid=record.uuid, deleted=True, refunded=refunded)
    return JSONResponse(unstructure(deleted))


def _attachment(record: JobRecord, extension: str) -> str:
    """A ``Content-Disposition`` for any stored name (those kept before names were cleaned
    on the way in too): the download's name at most 255 characters, extension included,
    and a plain-ASCII ``filename`` beside the exact UTF-8 ``filename*``."""
    stem = safe_filename(record.filename.rsplit(".", 1)[0] if record.filename else None)
    stem = (stem or record.uuid)[: _MAX_DOWNLOAD_NAME - len(extension) - 1]
    name = f"{stem}.{extension}"
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


async def download_job(request: Request) -> Response:
    services, record = await _job_of_caller(request)
    fmt = request.query_params.get("format", "").strip().lower()
    # docx and xlsx take a moment for a long document: off the event loop
    download = await asyncio.to_thread(services.jobs.download, record, fmt)
    headers = {"Content-Disposition": _attachment(record, download.extension)}
    if isinstance(download.content, Path):
        return FileResponse(download.content, media_type=download.media_type, headers=headers)
    if isinstance(download.content, bytes):
        return Response(download.content, media_type=download.media_type, headers=headers)
    # chunks written a page at a time; Starlette iterates them off the event loop
    return StreamingResponse(download.content, media_type=download.media_type, headers=headers)


async def chat(request: Request) -> Response:
    services, record = await _job_of_caller(request)
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("invalid_json", 'Send a JSON body: {"message": "..."}.') from None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        raise bad_request("missing_message", 'The JSON body needs a "message" string.')
    if len(message) > MAX_MESSAGE:
        raise bad_request("message_too_long", f"A message is at most {MAX_MESSAGE} characters.")
    conversation = body.get("conversation")
    if conversation is not None and not isinstance(conversation, str):
        raise bad_request("invalid_conversation", '"conversation" must be a string id.')
    reply = await services.chat.ask(record, message.strip(), conversation or None)
    return JSONResponse(unstructure(reply))


async def chat_history(request: Request) -> Response:
    services, record = await _job_of_caller(request)
    conversations = await asyncio.to_thread(services.chat.history, record)
    return JSONResponse(unstructure(History(conversations=conversations)))


async def account(request: Request) -> Response:
    services, caller = await _caller(request)
    return JSONResponse(unstructure(await asyncio.to_thread(services.accounts.view, caller)))


_ACCOUNT_UPDATES = {"webhook_url", "rotate_webhook_secret"}


async def update_account(request: Request) -> Response:
    """``PATCH /api/v1/account/`` with ``{"webhook_url": "https://..." | null}`` (the
    account's default webhook) and/or ``{"rotate_webhook_secret": true}`` (a new key)."""
    services, caller = await _caller(request)
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("invalid_json", 'Send a JSON body: {"webhook_url": "..."}.') from None
    if not isinstance(body, dict) or not body or not set(body) <= _ACCOUNT_UPDATES:
        raise bad_request(
            "invalid_account_update",
            'The JSON body takes "webhook_url" (a URL or null) and "rotate_webhook_secret" (true).',
        )
    rotate = body.get("rotate_webhook_secret", False)
    if not isinstance(rotate, bool):
        raise bad_request("invalid_account_update", '"rotate_webhook_secret" is true or false.')
    if "webhook_url" in body:
        url = body["webhook_url"]
        if url is not None and not isinstance(url, str):
            raise bad_request("invalid_webhook_url", "webhook_url is a URL string, or null.")
        await services.accounts.set_webhook_url(caller, url.strip() if url else None)
    if rotate:
        await services.accounts.rotate_webhook_secret(caller)
    updated = await asyncio.to_thread(services.accounts.accounts.account_by_name, caller.name)
    return JSONResponse(unstructure(await asyncio.to_thread(services.accounts.view, updated)))


async def list_tokens(request: Request) -> Response:
    services, caller = await _caller(request)
    tokens = await asyncio.to_thread(services.accounts.tokens, caller)
    return JSONResponse(unstructure(TokenList(tokens=tokens)))


async def create_token(request: Request) -> Response:
    services, caller = await _caller(request)
    created = await asyncio.to_thread(services.accounts.create_token, caller)
    return JSONResponse(unstructure(created), status_code=201)


async def revoke_token(request: Request) -> Response:
    """404 ``token_not_found`` for a key id the account does not have; 409 ``last_token``
    for its only token."""
    services, caller = await _caller(request)
    key_id = request.path_params["key_id"]
    await asyncio.to_thread(services.accounts.revoke_token, caller, key_id)
    return JSONResponse(unstructure(RevokedToken(key_id=key_id, revoked=True)))


async def tools(request: Request) -> Response:
    return JSONResponse(unstructure(await _services(request).catalog.tools()))


async def engines(request: Request) -> Response:
    return JSONResponse(unstructure(await _services(request).catalog.engines()))


async def openapi(request: Request) -> Response:
    downloads = tuple(DOWNLOAD_MEDIA_TYPES.items())
    return JSONResponse(openapi_document(downloads))


async def health(request: Request) -> Response:
    """200 ``ok``; 503 ``degraded`` with its ``problems`` while a background task is down
    or the disk is full. Failures of the last ten minutes are listed either way."""
    health = request.state.services.health
    problems = health.problems()
    body = {
        "status": "degraded" if problems else "ok",
        "version": __version__,
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "problems": problems,
        "recent_failures": [
            {
                "task": failure.task,
                "error": failure.error,
                "at": dt.datetime.fromtimestamp(failure.at, dt.UTC).isoformat(),
            }
            for failure in health.recent_failures()
        ],
    }
    return JSONResponse(body, status_code=503 if problems else 200)


routes = [
    Route("/api/v1/ocr/", submit_job, methods=["POST"]),
    Route("/api/v1/ocr/", list_jobs, methods=["GET"]),
    Route("/api/v1/ocr/{uuid}/", get_job, methods=["GET"]),
    Route("/api/v1/ocr/{uuid}/", delete_job, methods=["DELETE"]),
    Route("/api/v1/ocr/{uuid}/download/", download_job, methods=["GET"]),
    Route("/api/v1/chat/{uuid}/", chat, methods=["POST"]),
    Route("/api/v1/chat/{uuid}/history/", chat_history, methods=["GET"]),
    Route("/api/v1/account/", account, methods=["GET"]),
    Route("/api/v1/account/", update_account, methods=["PATCH"]),
    Route("/api/v1/account/tokens/", list_tokens, methods=["GET"]),
    Route("/api/v1/account/tokens/", create_token, methods=["POST"]),
    Route("/api/v1/account/tokens/{key_id}/", revoke_token, methods=["DELETE"]),
    Route("/api/v1/tools/", tools, methods=["GET"]),
    Route("/api/v1/engines/", engines, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
]
