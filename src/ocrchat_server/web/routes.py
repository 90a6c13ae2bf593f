"""The web app's pages: server-rendered with Jinja2, beside the API in the same app.

Like the API's handlers, each one calls the jobs and chat layers and shapes the answer;
it reaches no store, file or engine itself. What the pages do in the browser (an upload,
creating a token, deleting a job) goes through the JSON API with the session cookie and
its CSRF header, so there is one implementation of each action.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markdown_it import MarkdownIt
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ocrchat import __version__
from ocrchat.models import JobStatus
from ocrchat_server.chat.service import MAX_MESSAGE
from ocrchat_server.errors import ServiceError
from ocrchat_server.http.auth import SESSION_COOKIE, same_token
from ocrchat_server.http.errors import HttpError, status_of
from ocrchat_server.jobs.errors import JobNotFoundError
from ocrchat_server.jobs.records import job_summary
from ocrchat_server.jobs.service import DOWNLOAD_FORMATS
from ocrchat_server.jobs.tokens import key_id_of
from ocrchat_server.jobs.tools import TOOLS
from ocrchat_server.web.page_view import job_pages
from ocrchat_server.web.sessions import (
    CSRF_FIELD,
    SIGNIN_COOKIE,
    clear_session_cookie,
    clear_signin_cookie,
    new_signin_token,
    set_session_cookie,
    set_signin_cookie,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

    from ocrchat_server.app import Services
    from ocrchat_server.jobs.records import Account, JobRecord, WebSession

    Handler = Callable[[Request, Account, WebSession], Awaitable[Response]]

_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")
_MAX_TOKEN = 200

# The OCR's Markdown is the document's text, not ours: raw HTML in it is shown as text,
# and markdown-it refuses javascript: and other unsafe link targets
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")

FORMAT_LABELS = {
    "pdf": "PDF",
    "docx": "DOCX",
    "txt": "TXT",
    "md": "Markdown",
    "json": "JSON",
    "csv": "CSV",
    "xlsx": "XLSX",
    "hocr": "hOCR",
    "alto": "ALTO",
    "page": "PAGE-XML",
}


def _services(request: Request) -> Services:
    services: Services = request.state.services
    return services


async def _session(request: Request) -> tuple[Account, WebSession] | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    return await asyncio.to_thread(_services(request).accounts.web_session, session_id)


def _page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    session: WebSession | None = None,
    account: Account | None = None,
) -> Response:
    context = {
        "csrf": session.csrf_token if session else None,
        "account_name": account.name if account else None,
        "version": __version__,
        **context,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    # the pages show one account's documents: never kept by a shared cache, never framed
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        # the boxes are placed with style attributes; no inline script or stylesheet runs
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "style-src-attr 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    )
    return response


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for a signed-in user: without a live session, off to the sign-in form. A
    POST must carry the session's CSRF token in its ``csrf`` field. A service error is
    shown as a page with its status."""

    @functools.wraps(handler)
    async def page(request: Request) -> Response:
        found = await _session(request)
        if found is None:
            if request.headers.get("hx-request"):
                # an htmx call from a page whose session has ended: send the page there
                return Response(status_code=204, headers={"HX-Redirect": "/signin"})
            return RedirectResponse("/signin", status_code=303)
        account, session = found
        if request.method == "POST":
            form = await request.form()
            if not same_token(form.get(CSRF_FIELD), session.csrf_token):
                return _forbidden(request, session, account)
        services = _services(request)
        try:
            # the pages count against the account's requests a minute, as the API does
            if services.rate_limit is not None:
                await services.rate_limit.check(account.id)
            return await handler(request, account, session)
        except (ServiceError, HttpError) as exc:
            status = exc.status if isinstance(exc, HttpError) else status_of(exc)
            response = _page(
                request,
                "error.html",
                {
                    "title": "Not found" if isinstance(exc, JobNotFoundError) else "Error",
                    "message": exc.message,
                },
                status_code=status,
                session=session,
                account=account,
            )
            if isinstance(exc, HttpError) and exc.retry_after is not None:
                response.headers["Retry-After"] = str(exc.retry_after)
            return response

    return page


def _forbidden(
    request: Request, session: WebSession | None = None, account: Account | None = None
) -> Response:
    return _page(
        request,
        "error.html",
        {
            "title": "Form expired",
            "message": "The form expired or did not come from this site. Go back, reload "
            "the page and try again.",
        },
        status_code=403,
        session=session,
        account=account,
    )


async def home(request: Request) -> Response:
    signed = await _session(request)
    return RedirectResponse("/jobs" if signed else "/signin", status_code=303)


async def signin_form(request: Request) -> Response:
    if await _session(request) is not None:
        return RedirectResponse("/jobs", status_code=303)
    return _render_signin(request)


def _render_signin(
    request: Request, *, error: str | None = None, status_code: int = 200
) -> Response:
    token = new_signin_token()
    response = _page(
        request, "signin.html", {"signin_csrf": token, "error": error}, status_code=status_code
    )
    set_signin_cookie(response, request, token)
    return response


async def signin(request: Request) -> Response:
    form = await request.form()
    if not same_token(form.get(CSRF_FIELD), request.cookies.get(SIGNIN_COOKIE)):
        return _forbidden(request)
    token = form.get("token")
    services = _services(request)
    account = None
    if isinstance(token, str) and 0 < len(token.strip()) <= _MAX_TOKEN:
        token = token.strip()
        account = await asyncio.to_thread(services.accounts.authenticate, token)
    if account is None or not isinstance(token, str):
        return _render_signin(request, error="That API token is not valid.", status_code=401)
    session_id, session = await asyncio.to_thread(
        services.accounts.start_web_session, account, key_id_of(token)
    )
    response = RedirectResponse("/jobs", status_code=303)
    set_session_cookie(response, request, session_id, session.expires_at)
    clear_signin_cookie(response, request)
    return response


async def signout(request: Request) -> Response:
    found = await _session(request)
    if found is not None:
        form = await request.form()
        if not same_token(form.get(CSRF_FIELD), found[1].csrf_token):
            return _forbidden(request, found[1], found[0])
        session_id = request.cookies[SESSION_COOKIE]
        await asyncio.to_thread(_services(request).accounts.end_web_session, session_id)
    response = RedirectResponse("/signin", status_code=303)
    clear_session_cookie(response, request)
    return response


@signed_in
async def jobs_page(request: Request, account: Account, session: WebSession) -> Response:
    services = _services(request)
    cursor = request.query_params.get("cursor") or None
    listed = await asyncio.to_thread(
        services.jobs.list, account, status=None, limit=None, cursor=cursor
    )
    return _page(
        request,
        "jobs.html",
        {
            "jobs": listed.jobs,
            "next_cursor": listed.next_cursor,
            "tools": sorted(TOOLS),
        },
        session=session,
        account=account,
    )


async def _job_record(request: Request, account: Account) -> JobRecord:
    job_id = request.path_params["uuid"]
    return await asyncio.to_thread(_services(request).jobs.get, account, job_id)


@signed_in
async def job_page(request: Request, account: Account, session: WebSession) -> Response:
    services = _services(request)
    record = await _job_record(request, account)
    job = await asyncio.to_thread(services.jobs.view, record)
    context: dict[str, Any] = {"job": job, "pages": [], "conversations": []}
    if job.status is JobStatus.DONE:
        conversations = await asyncio.to_thread(services.chat.history, record)
        context.update(
            pages=job_pages(job),
            markdown_html=_markdown.render(job.markdown or ""),
            downloads=[(fmt, FORMAT_LABELS.get(fmt, fmt)) for fmt in DOWNLOAD_FORMATS],
            conversations=conversations,
        )
    return _page(request, "job.html", context, session=session, account=account)


@signed_in
async def job_progress(request: Request, account: Account, session: WebSession) -> Response:
    """The progress bar, polled by the job page; once the job is finished, the page
    reloads to show it."""
    record = await _job_record(request, account)
    if request.query_params.get("cell"):
        # the jobs list's status cell: it polls itself until the job is finished
        summary = job_summary(record)
        return _page(request, "_status_cell.html", {"job": summary}, session=session)
    if record.status.finished:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    job = await asyncio.to_thread(_services(request).jobs.view, record)
    return _page(request, "_progress.html", {"job": job}, session=session, account=account)


@signed_in
async def page_image(request: Request, account: Account, session: WebSession) -> Response:
    record = await _job_record(request, account)
    number = int(request.path_params["number"])
    png = await asyncio.to_thread(_services(request).jobs.page_image, record, number)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@signed_in
async def ask(request: Request, account: Account, session: WebSession) -> Response:
    """A question from the chat panel; answers with the exchange, to add to the log."""
    record = await _job_record(request, account)
    form = await request.form()
    message = form.get("message")
    conversation = form.get("conversation")
    context: dict[str, Any] = {"question": None, "reply": None, "error": None}
    if not isinstance(message, str) or not message.strip():
        context["error"] = "Type a question first."
        status_code = 400
    elif len(message) > MAX_MESSAGE:
        context["error"] = f"A question is at most {MAX_MESSAGE} characters."
        status_code = 400
    else:
        try:
            reply = await _services(request).chat.ask(
                record,
                message.strip(),
                conversation if isinstance(conversation, str) and conversation else None,
            )
        except ServiceError as exc:
            context["error"] = exc.message
            status_code = status_of(exc)
        else:
            context.update(question=message.strip(), reply=reply)
            status_code = 200
    return _page(
        request,
        "_exchange.html",
        context,
        status_code=status_code,
        session=session,
        account=account,
    )


async def _account(
    request: Request,
    account: Account,
    session: WebSession,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = _services(request)
    view = await asyncio.to_thread(services.accounts.view, account)
    tokens = await asyncio.to_thread(services.accounts.tokens, account)
    return _page(
        request,
        "account.html",
        {"view": view, "tokens": tokens, "session_key_id": session.key_id, "error": error},
        status_code=status_code,
        session=session,
        account=account,
    )


@signed_in
async def account_page(request: Request, account: Account, session: WebSession) -> Response:
    return await _account(request, account, session)


@signed_in
async def revoke_token(request: Request, account: Account, session: WebSession) -> Response:
    key_id = request.path_params["key_id"]
    try:
        await asyncio.to_thread(_services(request).accounts.revoke_token, account, key_id)
    except ServiceError as exc:
        # the account's last token, or one it does not have: said on the account page
        return await _account(
            request, account, session, error=exc.message, status_code=status_of(exc)
        )
    if key_id == session.key_id:
        # the token this session signed in with is gone, and the session with it
        response = RedirectResponse("/signin", status_code=303)
        clear_session_cookie(response, request)
        return response
    return RedirectResponse("/account", status_code=303)


def web_routes() -> list[Route | Mount]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/jobs", jobs_page, methods=["GET"]),
        Route("/jobs/{uuid}", job_page, methods=["GET"]),
        Route("/jobs/{uuid}/progress", job_progress, methods=["GET"]),
        Route("/jobs/{uuid}/pages/{number:int}.png", page_image, methods=["GET"]),
        Route("/jobs/{uuid}/chat", ask, methods=["POST"]),
        Route("/account", account_page, methods=["GET"]),
        Route("/account/tokens/{key_id}/revoke", revoke_token, methods=["POST"]),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
