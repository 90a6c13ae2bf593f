"""The ``ocrchat`` command: the SDK from a shell.

Exit codes tell failures apart, so scripts can react:

    0 ok · 1 other error · 2 usage · 3 authentication · 4 quota
    5 not found · 6 job failed · 7 job not done yet · 8 network or timeout
"""

from __future__ import annotations

import email.message
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, get_args

import click

from ocrchat._core import DEFAULT_POLL_INTERVAL, DEFAULT_POLL_TIMEOUT
from ocrchat._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    JobFailedError,
    JobNotReadyError,
    NotFoundError,
    OcrchatError,
    PollTimeoutError,
    QuotaExceededError,
)
from ocrchat._jupyter import job_facts
from ocrchat._serde import unstructure
from ocrchat._sync_client import Client
from ocrchat._version import __version__
from ocrchat.models import (
    DOWNLOAD_FORMATS,
    TIERS,
    TOOLS,
    ChatMessage,
    DownloadFormat,
    Job,
    JobStatusName,
    TierName,
    ToolName,
)

JOB_STATUSES: tuple[JobStatusName, ...] = get_args(JobStatusName)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 1
EXIT_AUTH = 3
EXIT_QUOTA = 4
EXIT_NOT_FOUND = 5
EXIT_JOB_FAILED = 6
EXIT_NOT_READY = 7
EXIT_NETWORK = 8

_EXIT_CODES: list[tuple[type[Exception], int]] = [
    (AuthenticationError, EXIT_AUTH),
    (ConfigurationError, EXIT_AUTH),
    (QuotaExceededError, EXIT_QUOTA),
    (NotFoundError, EXIT_NOT_FOUND),
    (JobFailedError, EXIT_JOB_FAILED),
    (JobNotReadyError, EXIT_NOT_READY),
    (APIConnectionError, EXIT_NETWORK),
    (PollTimeoutError, EXIT_NETWORK),
]


@contextmanager
def _client(ctx: click.Context) -> Iterator[Client]:
    options = ctx.find_root().params
    try:
        with Client(options["api_token"], base_url=options["base_url"]) as client:
            yield client
    except OcrchatError as exc:
        code = _exit_code(exc)
        if ctx.params.get("as_json"):
            # a script that asked for JSON reads its errors as JSON too
            click.echo(json.dumps(_error_json(exc, code), ensure_ascii=False), err=True)
        else:
            click.echo(f"Error: {exc}", err=True)
        ctx.exit(code)


def _exit_code(exc: OcrchatError) -> int:
    return next((code for kind, code in _EXIT_CODES if isinstance(exc, kind)), EXIT_ERROR)


def _error_json(exc: OcrchatError, exit_code: int) -> dict[str, Any]:
    shaped: dict[str, Any] = {"error": str(exc), "type": type(exc).__name__}
    if isinstance(exc, APIStatusError):
        shaped |= {
            "error": exc.message,
            "code": exc.code,
            "status": exc.status_code,
            "request_id": exc.request_id,
        }
        if exc.body.details:
            shaped["details"] = exc.body.details
    if isinstance(exc, JobFailedError):
        shaped["job"] = exc.job.uuid
    shaped["exit_code"] = exit_code
    return shaped


def _json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")(command)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(unstructure(value), ensure_ascii=False, indent=2))


def _summary(job: Job) -> str:
    parts = [job.uuid, job.status.value, *job_facts(job)]
    if job.error:
        parts.append(f"error: {job.error}")
    return "  ".join(parts)


def _wait(client: Client, job: Job, interval: float, timeout: float) -> Job:
    """Poll with a progress bar on stderr."""
    if job.status.finished:
        if job.error:
            raise JobFailedError(job)
        return job
    total = (job.progress.pages_total if job.progress else job.page_count) or 1
    with click.progressbar(length=total, label=f"OCR {job.uuid[:8]}", file=sys.stderr) as bar:
        seen = 0

        def on_progress(current: Job) -> None:
            nonlocal seen
            done = current.progress.pages_done if current.progress else 0
            bar.update(max(0, done - seen))
            seen = max(seen, done)

        return client.poll(job, interval=interval, timeout=timeout, on_progress=on_progress)


def _write(content: bytes, output: str) -> None:
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(content)
        click.echo(f"wrote {output} ({len(content)} bytes)", err=True)


@click.group()
@click.version_option(__version__, prog_name="ocrchat")
@click.option(
    "--base-url",
    envvar="OCRCHAT_BASE_URL",
    help="Server URL  [env: OCRCHAT_BASE_URL; default: https://ocr.chat]",
)
@click.option("--api-token", envvar="OCRCHAT_API_TOKEN", help="API token  [env: OCRCHAT_API_TOKEN]")
def main(base_url: str | None, api_token: str | None) -> None:
    """OCR documents and chat with them, on ocr.chat or your own server."""


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tier", type=click.Choice(TIERS), help="cpu (PP-OCRv6, Tesseract) or vlm (Surya).")
@click.option("--language", help="auto (default), ISO 639-1, or a Tesseract code; + joins.")
@click.option("--tool", type=click.Choice(TOOLS), help="A tool preset.")
@click.option("--pages", help='Read only these pages, counted from 1: "1-3,7", "10-".')
@click.option("--webhook-url", help="POST the job's summary here when it ends.")
@click.option("--translate-to", help="Target language for --tool translate.")
@click.option(
    "--engine",
    type=click.Choice(["auto", "tesseract", "ppocr"]),
    help="Self-hosted cpu tier: the recognizer (default auto: the best for each script).",
)
@click.option(
    "--ocr",
    type=click.Choice(["auto", "force", "skip"]),
    help="Self-hosted, PDFs: read exact text layers (auto), OCR every page, or never OCR.",
)
@click.option("--wait", is_flag=True, help="Wait until the job is done (a progress bar shows).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DOWNLOAD_FORMATS),
    help="Download this format when done (implies --wait).",
)
@click.option("-o", "--output", help="Where --format goes ('-' for stdout).")
@click.option("--interval", type=float, default=DEFAULT_POLL_INTERVAL, show_default=True)
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_POLL_TIMEOUT,
    show_default=True,
    help="Seconds to wait for the job.",
)
@_json_option
@click.pass_context
def submit(
    ctx: click.Context,
    file: Path,
    tier: TierName | None,
    language: str | None,
    tool: ToolName | None,
    pages: str | None,
    webhook_url: str | None,
    translate_to: str | None,
    engine: str | None,
    ocr: str | None,
    wait: bool,
    fmt: DownloadFormat | None,
    output: str | None,
    interval: float,
    timeout: float,
    as_json: bool,
) -> None:
    """Upload FILE for OCR."""
    with _client(ctx) as client:
        job = client.submit(
            file,
            tier=tier,
            language=language,
            tool=tool,
            translate_to=translate_to,
            pages=pages,
            webhook_url=webhook_url,
            engine=engine,
            ocr=ocr,
        )
        if wait or fmt:
            job = _wait(client, job, interval, timeout)
        if fmt:
            content = client.download(job, fmt)
            _write(content, output or f"{file.stem}.{fmt}")
        if as_json:
            _print_json(job)
        elif job.status.finished and not fmt:
            click.echo(_summary(job), err=True)
            click.echo(job.markdown or "")
        elif not fmt:
            click.echo(_summary(job))


@main.command()
@click.argument("uuid")
@_json_option
@click.pass_context
def get(ctx: click.Context, uuid: str, as_json: bool) -> None:
    """Show a job."""
    with _client(ctx) as client:
        job = client.get(uuid)
    if as_json:
        _print_json(job)
    else:
        click.echo(_summary(job))


@main.command()
@click.argument("uuid")
@click.option("--format", "fmt", required=True, type=click.Choice(DOWNLOAD_FORMATS))
@click.option(
    "-o",
    "--output",
    help="File to write ('-' for stdout)  [default: the server's name for it, the "
    "upload's name with the format's extension]",
)
@click.pass_context
def download(ctx: click.Context, uuid: str, fmt: DownloadFormat, output: str | None) -> None:
    """Download a finished job as a file."""
    with _client(ctx) as client:
        response = client.with_raw_response.download(uuid, fmt)
        content = response.parse()
    _write(content, output or _download_name(response.headers, f"{uuid}.{fmt}"))


def _download_name(headers: Mapping[str, str], fallback: str) -> str:
    """The file name the server gave the download (``Content-Disposition``), reduced to a
    bare name in the current directory: a server never chooses where a file goes."""
    disposition = headers.get("content-disposition")
    if not disposition:
        return fallback
    message = email.message.Message()
    message["content-disposition"] = disposition
    name = message.get_filename()  # decodes RFC 2231's filename*=UTF-8''...
    if not name:
        return fallback
    bare = Path(name.replace("\\", "/")).name
    if bare in ("", ".", "..") or bare.startswith("."):
        return fallback
    return bare


@main.command()
@click.option("--status", type=click.Choice(JOB_STATUSES), help="Only jobs in this status.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many jobs.")
@_json_option
@click.pass_context
def jobs(
    ctx: click.Context, status: JobStatusName | None, limit: int | None, as_json: bool
) -> None:
    """List the account's jobs, newest first (with --json, one JSON object a line)."""
    with _client(ctx) as client:
        for shown, summary in enumerate(client.jobs(status=status)):
            if limit is not None and shown >= limit:
                break
            if as_json:
                click.echo(json.dumps(unstructure(summary), ensure_ascii=False))
                continue
            when = summary.created_at.strftime("%Y-%m-%d %H:%M") if summary.created_at else ""
            progress = summary.progress
            pages = f"{progress.pages_done}/{progress.pages_total} pages" if progress else ""
            name = summary.filename or ""
            click.echo(f"{summary.uuid}  {summary.status.value:<10}  {when}  {pages}  {name}")


def _print_message(message: ChatMessage) -> None:
    click.echo(message.content)
    for citation in message.citations:
        click.echo(f"  [p. {citation.page}] {citation.snippet}")


@main.command()
@click.argument("uuid")
@click.argument("question")
@click.option("--conversation", help="Continue this conversation.")
@_json_option
@click.pass_context
def chat(
    ctx: click.Context, uuid: str, question: str, conversation: str | None, as_json: bool
) -> None:
    """Ask a question about a finished job."""
    with _client(ctx) as client:
        reply = client.chat(uuid, question, conversation=conversation)
    if as_json:
        _print_json(reply)
        return
    _print_message(reply.message)
    click.echo(f"conversation: {reply.conversation}", err=True)


@main.command()
@click.argument("uuid")
@_json_option
@click.pass_context
def history(ctx: click.Context, uuid: str, as_json: bool) -> None:
    """Show every conversation about a job."""
    with _client(ctx) as client:
        found = client.history(uuid)
    if as_json:
        _print_json(found)
        return
    for conversation in found.conversations:
        click.echo(f"# conversation {conversation.conversation}")
        for message in conversation.messages:
            click.echo(f"{message.role.value}:")
            _print_message(message)
        click.echo()


@main.command()
@_json_option
@click.pass_context
def account(ctx: click.Context, as_json: bool) -> None:
    """Show the account of the API token."""
    with _client(ctx) as client:
        found = client.account()
    if as_json:
        _print_json(found)
        return
    click.echo(f"account: {found.name}")
    if found.plan:
        click.echo(f"plan: {found.plan}")
    periods = (
        ("day", found.usage.day, found.caps.day),
        ("month", found.usage.month, found.caps.month),
    )
    for period, used, cap in periods:
        click.echo(f"{period}: {used} of {'no limit' if cap is None else cap} used")
    if found.credits is not None:
        click.echo(f"credits: {found.credits}")


@main.command()
@click.argument("uuid")
@_json_option
@click.pass_context
def delete(ctx: click.Context, uuid: str, as_json: bool) -> None:
    """Delete a job and its results now (pages not read yet are given back)."""
    with _client(ctx) as client:
        deleted = client.delete(uuid)
    if as_json:
        _print_json(deleted)
    else:
        click.echo(f"{deleted.uuid}  deleted  {deleted.refunded} pages given back")


@main.command()
@_json_option
@click.pass_context
def tools(ctx: click.Context, as_json: bool) -> None:
    """List the server's tools and the tiers each runs on."""
    with _client(ctx) as client:
        found = client.tools()
    if as_json:
        _print_json(found)
        return
    for tool in found.tools:
        tiers = ",".join(tier.value for tier in tool.tiers)
        state = "ready" if tool.ready else f"not ready: {tool.detail or 'unavailable'}"
        click.echo(f"{tool.slug}  [{tiers}]  {state}  {tool.description}")


@main.command()
@_json_option
@click.pass_context
def engines(ctx: click.Context, as_json: bool) -> None:
    """List each tier's engine: ready or not, version and languages."""
    with _client(ctx) as client:
        found = client.engines()
    if as_json:
        _print_json(found)
        return
    for engine in found.engines:
        state = "ready" if engine.ready else f"not ready: {engine.detail or 'unavailable'}"
        version = f" {engine.version}" if engine.version else ""
        languages = f"  {len(engine.languages)} languages" if engine.languages else ""
        click.echo(f"{engine.tier.value}: {engine.engine}{version}  {state}{languages}")


@main.group()
def tokens() -> None:
    """List, create and revoke the account's API tokens (self-hosted servers)."""


@tokens.command("list")
@_json_option
@click.pass_context
def list_tokens(ctx: click.Context, as_json: bool) -> None:
    """List the account's tokens, newest first: key ids, never the tokens."""
    with _client(ctx) as client:
        found = client.tokens()
    if as_json:
        _print_json(found)
        return
    for token in found:
        click.echo(f"{token.key_id}  {token.created_at.strftime('%Y-%m-%d %H:%M')}")


@tokens.command("create")
@_json_option
@click.pass_context
def create_token(ctx: click.Context, as_json: bool) -> None:
    """Create another token; it is the last line printed, and shown only now."""
    with _client(ctx) as client:
        created = client.create_token()
    if as_json:
        _print_json(created)
        return
    click.echo(f"New API token {created.key_id} (shown only now):", err=True)
    click.echo(created.token)


@tokens.command("revoke")
@click.argument("key_id")
@_json_option
@click.pass_context
def revoke_token(ctx: click.Context, key_id: str, as_json: bool) -> None:
    """Revoke the token KEY_ID: it stops working at once (the account's last one cannot
    be revoked)."""
    with _client(ctx) as client:
        client.revoke_token(key_id)
    if as_json:
        _print_json({"key_id": key_id, "revoked": True})
    else:
        click.echo(f"{key_id}  revoked")
