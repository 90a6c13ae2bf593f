"""The API's routes. Each handler authenticates, calls the job layer, and shapes the answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid as uuid_module
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ocrchat import __version__
from ocrchat._serde import unstructure
from ocrchat.models import History, JobStatus
from ocrchat_server.engines import tesseract_api
from ocrchat_server.engines.languages import installed_models
from ocrchat_server.errors import ApiError, bad_request, not_found
from ocrchat_server.exports import EXPORTERS, ExportSource
from ocrchat_server.http.auth import require_account
from ocrchat_server.http.uploads import receive_upload
from ocrchat_server.jobs.metering import Periods
from ocrchat_server.jobs.service import SubmitOptions
from ocrchat_server.jobs.tools import tool_list

if TYPE_CHECKING:
    from starlette.requests import Request

    from ocrchat_server.app import Services
    from ocrchat_server.jobs.store import Account, JobRecord

DOWNLOAD_FORMATS = tuple(EXPORTERS)
_POLL_AFTER_SECONDS = "2"
_MAX_IDEMPOTENCY_KEY = 255
_MAX_MESSAGE = 4000


def _services(request: Request) -> Services:
    services: Services = request.state.services
    return services


def _caller(request: Request) -> tuple[Services, Account]:
    services = _services(request)
    return services, require_account(request, services.store)


def _job_of_caller(request: Request) -> tuple[Services, JobRecord]:
    services, account = _caller(request)
    raw = request.path_params["uuid"]
    try:
        job_id = str(uuid_module.UUID(raw))
    except ValueError:
        raise not_found() from None
    return services, services.jobs.get(account, job_id)


async def _job_response(
    services: Services, record: JobRecord, status_code: int = 200
) -> JSONResponse:
    headers = {} if record.status.finished else {"Retry-After": _POLL_AFTER_SECONDS}
    # a long document's job.json runs to megabytes: read and shaped off the event loop,
    # so that other clients' polls do not wait behind it
    body = await asyncio.to_thread(lambda: unstructure(services.jobs.view(record)))
    return JSONResponse(body, status_code=status_code, headers=headers)


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
    services, account = _caller(request)
    key = _idempotency_key(request)
    job_id = str(uuid_module.uuid4())
    received = await receive_upload(
        request, services.files.upload(job_id), services.settings.max_upload_bytes
    )
    submitted = await services.jobs.submit(
        account,
        uuid=job_id,
        filename=received.filename,
        options=SubmitOptions.from_form(received.fields),
        idempotency_key=key,
    )
    record = submitted.record
    response = await _job_response(services, record, 200 if record.status.finished else 202)
    if submitted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


async def get_job(request: Request) -> Response:
    services, record = _job_of_caller(request)
    return await _job_response(services, record)


async def delete_job(request: Request) -> Response:
    services, record = _job_of_caller(request)
    refunded = services.jobs.delete(record)
    return JSONResponse({"uuid": record.uuid, "deleted": True, "refunded": refunded})


def _attachment(record: JobRecord, extension: str) -> str:
    stem = record.filename.rsplit(".", 1)[0] if record.filename else record.uuid
    name = f"{stem or record.uuid}.{extension}"
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


async def download_job(request: Request) -> Response:
    services, record = _job_of_caller(request)
    fmt = request.query_params.get("format", "").strip().lower()
    if fmt not in DOWNLOAD_FORMATS:
        raise bad_request(
            "invalid_format",
            f"Unknown format {fmt!r}: use one of {', '.join(DOWNLOAD_FORMATS)}.",
        )
    if record.status is not JobStatus.DONE:
        raise ApiError(409, "job_not_done", f"The job is {record.status.value}, not done.")
    exporter = EXPORTERS[fmt]
    job = await asyncio.to_thread(services.jobs.view, record)
    source = ExportSource(job=job, searchable_pdf=services.files.document_pdf(record.uuid))
    # docx and xlsx take a moment for a long document: off the event loop
    content = await asyncio.to_thread(exporter.export, source)
    headers = {"Content-Disposition": _attachment(record, fmt)}
    if isinstance(content, Path):
        return FileResponse(content, media_type=exporter.media_type, headers=headers)
    return Response(content, media_type=exporter.media_type, headers=headers)


async def chat(request: Request) -> Response:
    services, record = _job_of_caller(request)
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("invalid_json", 'Send a JSON body: {"message": "..."}.') from None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        raise bad_request("missing_message", 'The JSON body needs a "message" string.')
    if len(message) > _MAX_MESSAGE:
        raise bad_request("message_too_long", f"A message is at most {_MAX_MESSAGE} characters.")
    conversation = body.get("conversation")
    if conversation is not None and not isinstance(conversation, str):
        raise bad_request("invalid_conversation", '"conversation" must be a string id.')
    reply = await services.chat.ask(record, message.strip(), conversation or None)
    return JSONResponse(unstructure(reply))


async def chat_history(request: Request) -> Response:
    services, record = _job_of_caller(request)
    return JSONResponse(unstructure(History(conversations=services.chat.history(record))))


async def account(request: Request) -> Response:
    services, caller = _caller(request)
    plans = services.settings.plans
    plan = services.jobs.plan_of(caller)
    usage = services.store.usage(caller.id)
    periods = Periods.at(services.store.clock())
    return JSONResponse(
        {
            "name": caller.name,
            "created_at": caller.created_at.isoformat(),
            "plan": plan.name,
            "usage": {"day": usage.day, "month": usage.month},
            "caps": {
                "day": plan.daily,
                "month": plan.monthly,
                "pages_per_file": plan.pages_per_file,
            },
            "credits": usage.credits,
            "resets": {
                "day": periods.next_day.isoformat(),
                "month": periods.next_month.isoformat(),
            },
            "costs": plans.costs,
            "priority": plan.priority,
        }
    )


async def tools(request: Request) -> Response:
    services = _services(request)
    offered = tool_list(
        vlm=await services.vlm.status(), translator=services.settings.llm_endpoint is not None
    )
    return JSONResponse({"tools": [unstructure(tool) for tool in offered]})


async def engines(request: Request) -> Response:
    services = _services(request)
    cpu: dict[str, Any] = {"tier": "cpu", "engine": "tesseract", "ready": True}
    try:
        cpu["version"] = tesseract_api.version()
        cpu["languages"] = sorted(installed_models() - {"osd"})
    except OSError:
        cpu.update(ready=False, detail="Tesseract is not installed: apt-get install tesseract-ocr")
    status = await services.vlm.status()
    vlm: dict[str, Any] = {
        "tier": "vlm",
        "engine": "surya",
        "configured": status.configured,
        "ready": status.ready,
        "detail": status.detail,
    }
    if status.model is not None:
        vlm["model"] = status.model
    return JSONResponse({"engines": [cpu, vlm]})


async def health(request: Request) -> Response:
    return JSONResponse(
        {"status": "ok", "version": __version__, "time": dt.datetime.now(dt.UTC).isoformat()}
    )


routes = [
    Route("/api/v1/ocr/", submit_job, methods=["POST"]),
    Route("/api/v1/ocr/{uuid}/", get_job, methods=["GET"]),
    Route("/api/v1/ocr/{uuid}/", delete_job, methods=["DELETE"]),
    Route("/api/v1/ocr/{uuid}/download/", download_job, methods=["GET"]),
    Route("/api/v1/chat/{uuid}/", chat, methods=["POST"]),
    Route("/api/v1/chat/{uuid}/history/", chat_history, methods=["GET"]),
    Route("/api/v1/account/", account, methods=["GET"]),
    Route("/api/v1/tools/", tools, methods=["GET"]),
    Route("/api/v1/engines/", engines, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
]
