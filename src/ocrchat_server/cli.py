"""``ocrchat-server``: run the server and manage its accounts and tokens."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import click

from ocrchat import __version__
from ocrchat_server.engines.languages import MAX_MODELS
from ocrchat_server.engines.preparation import PreparationError, parse_steps
from ocrchat_server.engines.vlm_server import DEFAULT_MODEL
from ocrchat_server.errors import ServiceError
from ocrchat_server.jobs.backends import open_backend
from ocrchat_server.jobs.interfaces import Backend
from ocrchat_server.jobs.plans import Plans, PlansError
from ocrchat_server.jobs.records import Account, AccountExistsError, NoSuchAccountError
from ocrchat_server.settings import Settings, default_data_dir, parse_duration

_DATA_DIR_HELP = "Where the SQLite store, uploads and results live (created on first start)."
_EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _data_dir_option(command: Any) -> Any:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=default_data_dir,
        show_default="$XDG_DATA_HOME/ocrchat-server or ~/.local/share/ocrchat-server",
        envvar="OCRCHAT_DATA_DIR",
        help=_DATA_DIR_HELP,
    )(command)


def _database_option(command: Any) -> Any:
    return click.option(
        "--database-url",
        envvar="OCRCHAT_DATABASE_URL",
        help="Scale-out: PostgreSQL for jobs, accounts, charges and conversations, e.g. "
        "postgresql://ocrchat@db/ocrchat (run `ocrchat-server db upgrade` first). "
        "Without it: the SQLite file in the data dir.",
    )(command)


def _scale_options(command: Any) -> Any:
    command = click.option(
        "--storage",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="OCRCHAT_STORAGE",
        help="Scale-out: a directory every API server and worker mounts (NFS, CephFS, a "
        "Kubernetes RWX volume) for uploads, page results and PDFs.  [default: the data dir]",
    )(command)
    command = click.option(
        "--broker-url",
        envvar="OCRCHAT_BROKER_URL",
        help="Scale-out: Redis for Celery, e.g. redis://broker:6379/0; pages are read by "
        "`ocrchat-server worker` processes. Goes with --database-url.",
    )(command)
    return _database_option(command)


def _check_scale_options(database_url: str | None, broker_url: str | None) -> None:
    if bool(database_url) != bool(broker_url):
        raise click.UsageError(
            "The scale-out mode needs both --database-url (PostgreSQL) and --broker-url "
            "(Redis); give neither for the embedded mode."
        )


def _plans_option(command: Any) -> Any:
    return click.option(
        "--plans",
        "plans_file",
        type=_EXISTING_FILE,
        envvar="OCRCHAT_PLANS",
        help="TOML file of plans and page costs (see docs/plans.md); built-in plans otherwise.",
    )(command)


def _load_plans(plans_file: Path | None) -> Plans:
    try:
        return Plans.load(plans_file)
    except PlansError as exc:
        raise click.BadParameter(str(exc), param_hint="--plans") from exc


class _Duration(click.ParamType[dt.timedelta]):
    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _PreparationSteps(click.ParamType[tuple[str, ...]]):
    name = "steps"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        try:
            return parse_steps(str(value))
        except PreparationError as exc:
            self.fail(str(exc), param, ctx)


_worker_max_pages_option = click.option(
    "--worker-max-pages",
    type=click.IntRange(min=0),
    default=500,
    show_default=True,
    envvar="OCRCHAT_WORKER_MAX_PAGES",
    help="Replace a worker process after this many pages (0: never).",
)
_page_timeout_option = click.option(
    "--page-timeout",
    type=_Duration(),
    default="5m",
    show_default=True,
    envvar="OCRCHAT_PAGE_TIMEOUT",
    help="Time limit for one page, rendering and reading; past it the page fails and its "
    "worker is stopped with the processes it started (0: no limit).",
)
_page_visibility_timeout_option = click.option(
    "--page-visibility-timeout",
    type=_Duration(),
    default="10m",
    show_default=True,
    envvar="OCRCHAT_PAGE_VISIBILITY_TIMEOUT",
    help="Scale-out: how long a page may go unacknowledged before another worker reads it "
    "(its worker died). Longer than the slowest page; the same on every host (an API "
    "server sends again the pages of a job quiet for this and --page-timeout together).",
)
_FILES_KEPT_FREE = 200
"""Open files left to the server beside its connections: the database, uploads, pipes."""
_retention_option = click.option(
    "--retention",
    type=_Duration(),
    default="7d",
    show_default=True,
    envvar="OCRCHAT_RETENTION",
    help="How long results are kept (7d, 12h, 30m, seconds).",
)
_log_level_option = click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    envvar="OCRCHAT_LOG_LEVEL",
)
_prepare_option = click.option(
    "--prepare",
    "preparation",
    default="all",
    show_default=True,
    envvar="OCRCHAT_PREPARE",
    type=_PreparationSteps(),
    help="Steps around PP-OCRv6's reading, comma-separated: upright (turn sideways "
    "pages), grey (read luminance), deskew (find the lines of a page scanned askew on "
    "it straightened), lexicon (undo letter confusions by the language's "
    "word list and word frequencies), long_s (write the long s where an old print has "
    "it); 'all' or 'none'.",
)


@click.group()
@click.version_option(__version__, prog_name="ocrchat-server")
def main() -> None:
    """The self-hosted OCR.chat server: Tesseract on the cpu tier, Surya 2 on the vlm tier."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="OCRCHAT_HOST")
@click.option("--port", default=8000, show_default=True, type=int, envvar="OCRCHAT_PORT")
@_data_dir_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    envvar="OCRCHAT_WORKERS",
    help="OCR worker processes.  [default: one per core]",
)
@_worker_max_pages_option
@click.option(
    "--worker-max-rss-mb",
    type=click.IntRange(min=0),
    default=2048,
    show_default=True,
    envvar="OCRCHAT_WORKER_MAX_RSS_MB",
    help="Replace the workers when one's resident memory after a page is above this (0: never).",
)
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=100,
    show_default=True,
    envvar="OCRCHAT_MAX_UPLOAD_MB",
    help="Largest upload accepted.",
)
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    envvar="OCRCHAT_MAX_PAGES",
    help="Most pages accepted in one file.",
)
@click.option(
    "--max-page-pixels",
    type=click.FloatRange(min=0, min_open=True),
    default=64,
    show_default=True,
    envvar="OCRCHAT_MAX_PAGE_PIXELS",
    help="Largest image page accepted, in millions of pixels (a 600-dpi A4 scan has 35).",
)
@click.option(
    "--max-models",
    type=click.IntRange(min=1),
    default=MAX_MODELS,
    show_default=True,
    envvar="OCRCHAT_MAX_MODELS",
    help="Most language models one request may name (deu+eng+fra is three).",
)
@_page_timeout_option
@click.option(
    "--pages-in-flight-per-account",
    type=click.IntRange(min=0),
    default=0,
    envvar="OCRCHAT_PAGES_IN_FLIGHT_PER_ACCOUNT",
    help="Most pages of one account read at once, so that no account holds every worker "
    "(0: no cap; pages are still shared out by account).  [default: 0]",
)
@click.option(
    "--requests-per-minute",
    type=click.IntRange(min=0),
    default=1200,
    show_default=True,
    envvar="OCRCHAT_REQUESTS_PER_MINUTE",
    help="Requests one account may send in any minute before it is answered 429 (0: no limit).",
)
@click.option(
    "--queued-pages-per-account",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    envvar="OCRCHAT_QUEUED_PAGES_PER_ACCOUNT",
    help="Pages one account may have waiting or being read; a file over it is answered 429 "
    "(0: no cap).",
)
@click.option(
    "--webhook-private-addresses/--no-webhook-private-addresses",
    default=False,
    show_default=True,
    envvar="OCRCHAT_WEBHOOK_PRIVATE_ADDRESSES",
    help="Deliver webhooks to loopback, private and link-local addresses too (refused by "
    "default: server-side request forgery). For receivers on your own network.",
)
@click.option(
    "--ui/--no-ui",
    default=True,
    show_default=True,
    envvar="OCRCHAT_UI",
    help="Serve the web app at / (sign in with an API token, upload, see the boxes, chat). "
    "--no-ui serves the API alone.",
)
@click.option(
    "--header-timeout",
    type=_Duration(),
    default="10s",
    show_default=True,
    envvar="OCRCHAT_HEADER_TIMEOUT",
    help="A connection that has not sent a whole request head this long after opening (or "
    "after its last answer) is closed (0: no limit).",
)
@click.option(
    "--body-timeout",
    type=_Duration(),
    default="30s",
    show_default=True,
    envvar="OCRCHAT_BODY_TIMEOUT",
    help="An upload that sends nothing this long is answered 408 (0: no limit).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    envvar="OCRCHAT_MAX_CONNECTIONS",
    help="Open connections at once; a request over the cap is answered 503.",
)
@_retention_option
@_log_level_option
@_plans_option
@click.option(
    "--llm-url",
    envvar="OCRCHAT_LLM_URL",
    help="OpenAI-compatible endpoint for chat answers, e.g. http://127.0.0.1:8080/v1 "
    "(its key from $OCRCHAT_LLM_API_KEY). Without it, chat quotes the best lines.",
)
@click.option("--llm-model", envvar="OCRCHAT_LLM_MODEL", help="The model name to ask for.")
@click.option(
    "--llm-timeout",
    type=float,
    default=60,
    show_default=True,
    envvar="OCRCHAT_LLM_TIMEOUT",
    help="Seconds to wait for the model.",
)
@_prepare_option
@click.option(
    "--vlm-url",
    envvar="OCRCHAT_VLM_URL",
    help="The vlm tier: a llama-server or vLLM serving Surya 2, e.g. http://127.0.0.1:8765/v1.",
)
@click.option(
    "--vlm-model",
    default=DEFAULT_MODEL,
    show_default=True,
    envvar="OCRCHAT_VLM_MODEL",
    help="The name the vlm server serves Surya's model under.",
)
@click.option(
    "--vlm-llama-server",
    type=_EXISTING_FILE,
    envvar="OCRCHAT_VLM_LLAMA_SERVER",
    help="Without --vlm-url: a llama-server binary to start with --vlm-gguf and --vlm-mmproj.",
)
@click.option(
    "--vlm-gguf",
    type=_EXISTING_FILE,
    envvar="OCRCHAT_VLM_GGUF",
    help="Surya 2's model file (surya-2.gguf).",
)
@click.option(
    "--vlm-mmproj",
    type=_EXISTING_FILE,
    envvar="OCRCHAT_VLM_MMPROJ",
    help="Surya 2's vision projector file (surya-2-mmproj.gguf).",
)
@_scale_options
@click.option(
    "--pages-in-flight-per-job",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    envvar="OCRCHAT_PAGES_IN_FLIGHT_PER_JOB",
    help="Scale-out: the most pages of one job queued at once (other jobs' pages are "
    "interleaved with a long one's).",
)
@click.option(
    "--inline-wait",
    type=_Duration(),
    default="2m",
    show_default=True,
    envvar="OCRCHAT_INLINE_WAIT",
    help="Scale-out: how long a small file's POST waits for its job before answering 202.",
)
@_page_visibility_timeout_option
def serve(
    host: str,
    port: int,
    data_dir: Path,
    workers: int | None,
    worker_max_pages: int,
    worker_max_rss_mb: int,
    max_upload_mb: float,
    max_pages: int,
    max_page_pixels: float,
    max_models: int,
    page_timeout: dt.timedelta,
    pages_in_flight_per_account: int,
    requests_per_minute: int,
    queued_pages_per_account: int,
    webhook_private_addresses: bool,
    ui: bool,
    header_timeout: dt.timedelta,
    body_timeout: dt.timedelta,
    max_connections: int,
    retention: dt.timedelta,
    log_level: str,
    plans_file: Path | None,
    llm_url: str | None,
    llm_model: str | None,
    llm_timeout: float,
    preparation: tuple[str, ...],
    vlm_url: str | None,
    vlm_model: str,
    vlm_llama_server: Path | None,
    vlm_gguf: Path | None,
    vlm_mmproj: Path | None,
    database_url: str | None,
    broker_url: str | None,
    storage: Path | None,
    pages_in_flight_per_job: int,
    inline_wait: dt.timedelta,
    page_visibility_timeout: dt.timedelta,
) -> None:
    """Start the API server: by default with its records (SQLite), files and worker
    processes on this machine; with --database-url and --broker-url, the API alone, the
    pages read by `ocrchat-server worker` processes on any host."""
    import uvicorn

    from ocrchat_server.app import create_app
    from ocrchat_server.http.connections import (
        RepeatedLogFilter,
        head_timeout_protocol,
        raise_file_limit,
    )
    from ocrchat_server.http.request_ids import RequestIdFilter

    if vlm_llama_server and not (vlm_gguf and vlm_mmproj):
        raise click.UsageError("--vlm-llama-server needs --vlm-gguf and --vlm-mmproj.")
    _check_scale_options(database_url, broker_url)
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s",
    )
    # every line names the request it was logged in (the id its answer's X-Request-ID
    # carries): on the handlers, before anything logs, as the format needs it
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    settings = Settings(
        data_dir=data_dir,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        worker_max_pages=worker_max_pages or None,
        worker_max_rss_mb=worker_max_rss_mb or None,
        max_pages=max_pages,
        max_page_pixels=int(max_page_pixels * 1_000_000),
        max_models=max_models,
        page_timeout=page_timeout or None,
        pages_in_flight_per_account=pages_in_flight_per_account or None,
        body_timeout=body_timeout or None,
        requests_per_minute=requests_per_minute or None,
        queued_pages_per_account=queued_pages_per_account or None,
        webhook_private_addresses=webhook_private_addresses,
        ui=ui,
        retention=retention,
        plans=_load_plans(plans_file),
        llm_url=llm_url,
        llm_model=llm_model,
        llm_api_key=os.environ.get("OCRCHAT_LLM_API_KEY"),
        llm_timeout=llm_timeout,
        preparation=preparation,
        vlm_url=vlm_url,
        vlm_model=vlm_model,
        vlm_llama_server=vlm_llama_server,
        vlm_gguf=vlm_gguf,
        vlm_mmproj=vlm_mmproj,
        database_url=database_url,
        broker_url=broker_url,
        storage=storage,
        pages_in_flight_per_job=pages_in_flight_per_job,
        inline_wait=inline_wait,
        page_visibility_timeout=page_visibility_timeout,
    )
    if workers:
        settings = attrs.evolve(settings, workers=workers)
    if settings.scale_out:
        where = f"scale-out: files in {settings.storage or settings.data_dir}, pages to the broker"
    else:
        where = f"data in {settings.data_dir}, {settings.workers} worker(s)"
    click.echo(f"ocrchat-server {__version__}: {where}, http://{host}:{port}/api/v1/")
    if database_url:
        _check_schema(database_url)
    head_seconds = header_timeout.total_seconds()
    files = raise_file_limit()
    if max_connections > files - _FILES_KEPT_FREE:
        click.echo(
            f"warning: {max_connections} connections need more than this process's limit of "
            f"{files} open files; capped at {files - _FILES_KEPT_FREE}",
            err=True,
        )
        max_connections = max(1, files - _FILES_KEPT_FREE)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RepeatedLogFilter())
    # access_log=False: uvicorn's access log prints query strings, which may hold ?api_token=.
    # log_config=None: uvicorn's messages go through the handlers above, flood filter included.
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        access_log=False,
        log_level=log_level,
        log_config=None,
        http=head_timeout_protocol(head_seconds) if head_seconds else "h11",
        limit_concurrency=max_connections,
    )


def _check_schema(database_url: str) -> None:
    from ocrchat_server.jobs.scaleout.migrate import SchemaBehindError, check_current

    try:
        check_current(database_url)
    except SchemaBehindError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # psycopg's connection errors: say which, not a traceback
        raise click.ClickException(f"Cannot use the database: {exc}") from None


@main.command()
@_data_dir_option
@_scale_options
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    envvar="OCRCHAT_WORKER_CONCURRENCY",
    help="Pages read at once: one worker process (one Tesseract) per slot.  "
    "[default: one per core]",
)
@_worker_max_pages_option
@_page_visibility_timeout_option
@_page_timeout_option
@_retention_option
@_prepare_option
@click.option("--vlm-url", envvar="OCRCHAT_VLM_URL", help="The vlm tier's server (as serve).")
@click.option("--vlm-model", default=DEFAULT_MODEL, envvar="OCRCHAT_VLM_MODEL")
@click.option("--llm-url", envvar="OCRCHAT_LLM_URL", help="For the translate tool (as serve).")
@click.option("--llm-model", envvar="OCRCHAT_LLM_MODEL")
@click.option("--llm-timeout", type=float, default=60, envvar="OCRCHAT_LLM_TIMEOUT")
@_log_level_option
def worker(
    data_dir: Path,
    database_url: str | None,
    broker_url: str | None,
    storage: Path | None,
    concurrency: int | None,
    worker_max_pages: int,
    page_visibility_timeout: dt.timedelta,
    page_timeout: dt.timedelta,
    retention: dt.timedelta,
    preparation: tuple[str, ...],
    vlm_url: str | None,
    vlm_model: str,
    llm_url: str | None,
    llm_model: str | None,
    llm_timeout: float,
    log_level: str,
) -> None:
    """Scale-out: read pages from the broker (Celery worker), on this or any host."""
    if not (database_url and broker_url):
        raise click.UsageError("A worker needs --database-url and --broker-url.")
    _check_schema(database_url)
    from ocrchat_server.jobs.scaleout.celery_queue import QUEUE, WorkerContext, configure

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        storage=storage,
        page_visibility_timeout=page_visibility_timeout,
        page_timeout=page_timeout or None,
        retention=retention,
        preparation=preparation,
        vlm_url=vlm_url,
        vlm_model=vlm_model,
        llm_url=llm_url,
        llm_model=llm_model,
        llm_api_key=os.environ.get("OCRCHAT_LLM_API_KEY"),
        llm_timeout=llm_timeout,
    )
    WorkerContext.configured = settings
    arguments = [
        "worker",
        f"--concurrency={concurrency or os.cpu_count() or 1}",
        "--pool=prefork",
        f"--queues={QUEUE}",
        f"--loglevel={log_level.upper()}",
        # no chatter between workers: they share nothing but the broker and the database
        "--without-gossip",
        "--without-mingle",
    ]
    if worker_max_pages:
        arguments.append(f"--max-tasks-per-child={worker_max_pages}")
    configure(settings).worker_main(arguments)


@main.group()
def db() -> None:
    """Scale-out: the PostgreSQL schema."""


@db.command("upgrade")
@_database_option
def upgrade_database(database_url: str | None) -> None:
    """Create or upgrade the schema (safe to run again, and from several hosts at once)."""
    if not database_url:
        raise click.UsageError("Give --database-url (or $OCRCHAT_DATABASE_URL).")
    from ocrchat_server.jobs.scaleout.migrate import upgrade

    try:
        applied = upgrade(database_url)
    except Exception as exc:  # psycopg's connection and SQL errors: said, not a traceback
        raise click.ClickException(f"Cannot upgrade the database: {exc}") from None
    click.echo(f"applied: {', '.join(applied)}" if applied else "the schema is up to date")


@main.command()
@click.option(
    "--vlm-url", envvar="OCRCHAT_VLM_URL", help="Check this vlm server too (as serve takes it)."
)
@click.option("--vlm-model", default=DEFAULT_MODEL, envvar="OCRCHAT_VLM_MODEL")
def doctor(vlm_url: str | None, vlm_model: str) -> None:
    """Check Tesseract, its language models, poppler, qpdf, fonts and the vlm server; say how
    to fix what is missing."""
    from ocrchat_server.doctor import run_checks

    broken = False
    for check in run_checks(vlm_url=vlm_url, vlm_model=vlm_model):
        mark = "ok  " if check.ok else ("FAIL" if check.required else "--  ")
        click.echo(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            click.echo(f"     fix: {check.fix}")
        broken = broken or (check.required and not check.ok)
    if broken:
        raise SystemExit(1)


@main.group()
def accounts() -> None:
    """Manage accounts."""


@accounts.command("create")
@click.argument("name")
@click.option("--plan", help="The account's plan.  [default: the configured default, free]")
@_data_dir_option
@_database_option
@_plans_option
def create_account(
    name: str, plan: str | None, data_dir: Path, plans_file: Path | None, database_url: str | None
) -> None:
    """Create an account; its API token is the last line printed."""
    plans = _load_plans(plans_file)
    chosen = _plan_name(plans, plan or plans.default_plan)
    backend = open_backend(Settings(data_dir=data_dir, database_url=database_url))
    try:
        account, token = backend.accounts.create_account(name, plan=chosen)
    except AccountExistsError:
        raise click.ClickException(f"An account named {name!r} already exists.") from None
    finally:
        backend.close()
    click.echo(
        f"Created account {account.name!r} on the {chosen} plan. Its API token (shown only now):",
        err=True,
    )
    click.echo(token)


def _plan_name(plans: Plans, name: str) -> str:
    try:
        return plans.get(name).name
    except PlansError as exc:
        raise click.BadParameter(str(exc), param_hint="PLAN") from exc


@contextmanager
def _backend(data_dir: Path, database_url: str | None) -> Iterator[Backend]:
    backend = open_backend(Settings(data_dir=data_dir, database_url=database_url))
    try:
        yield backend
    except NoSuchAccountError as exc:
        raise click.ClickException(f"No account named {exc.args[0]!r}.") from None
    finally:
        backend.close()


def _show(backend: Backend, account: Account, plans: Plans) -> None:
    plan = plans.get(account.plan)
    usage = backend.charges.usage(account.id)

    def cap(value: int | None) -> str:
        return "no limit" if value is None else str(value)

    click.echo(f"account:    {account.name}")
    click.echo(f"plan:       {plan.name} (queue priority {plan.priority})")
    click.echo(f"today:      {usage.day} of {cap(plan.daily)} credits")
    click.echo(f"this month: {usage.month} of {cap(plan.monthly)} credits")
    click.echo(f"per file:   {plan.pages_per_file} pages")
    click.echo(f"credits:    {usage.credits} prepaid")
    click.echo(f"created:    {account.created_at.isoformat()}")


@accounts.command("show")
@click.argument("name")
@_data_dir_option
@_database_option
@_plans_option
def show_account(
    name: str, data_dir: Path, plans_file: Path | None, database_url: str | None
) -> None:
    """Show an account's plan, usage and credits."""
    plans = _load_plans(plans_file)
    with _backend(data_dir, database_url) as backend:
        _show(backend, backend.accounts.account_by_name(name), plans)


@accounts.command("credit")
@click.argument("name")
@click.argument("pages", type=int)
@_data_dir_option
@_database_option
@_plans_option
def credit_account(
    name: str, pages: int, data_dir: Path, plans_file: Path | None, database_url: str | None
) -> None:
    """Add PAGES prepaid credits to account NAME.

    To take some back, give a negative number after --: credit NAME -- -10
    """
    plans = _load_plans(plans_file)
    with _backend(data_dir, database_url) as backend:
        try:
            account = backend.accounts.add_credits(name, pages)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        _show(backend, account, plans)


@accounts.command("plan")
@click.argument("name")
@click.argument("plan")
@_data_dir_option
@_database_option
@_plans_option
def change_plan(
    name: str, plan: str, data_dir: Path, plans_file: Path | None, database_url: str | None
) -> None:
    """Move account NAME to PLAN."""
    plans = _load_plans(plans_file)
    chosen = _plan_name(plans, plan)
    with _backend(data_dir, database_url) as backend:
        backend.accounts.account_by_name(name)
        _show(backend, backend.accounts.set_plan(name, chosen), plans)


@main.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("name")
@_data_dir_option
@_database_option
def create_token(name: str, data_dir: Path, database_url: str | None) -> None:
    """Add an API token to account NAME; the token is the last line printed."""
    backend = open_backend(Settings(data_dir=data_dir, database_url=database_url))
    try:
        token = backend.accounts.create_token(name)
    except NoSuchAccountError:
        raise click.ClickException(f"No account named {name!r}.") from None
    finally:
        backend.close()
    click.echo(f"New API token for {name!r} (shown only now):", err=True)
    click.echo(token)


@tokens.command("list")
@click.argument("name")
@_data_dir_option
@_database_option
def list_tokens(name: str, data_dir: Path, database_url: str | None) -> None:
    """List account NAME's tokens, newest first: key ids, never the tokens."""
    with _backend(data_dir, database_url) as backend:
        account = backend.accounts.account_by_name(name)
        for token in backend.accounts.tokens(account.id):
            click.echo(f"{token.key_id}  {token.created_at.isoformat()}")


@tokens.command("revoke")
@click.argument("name")
@click.argument("key_id")
@_data_dir_option
@_database_option
def revoke_token(name: str, key_id: str, data_dir: Path, database_url: str | None) -> None:
    """Revoke account NAME's token KEY_ID (not its last one: create another first)."""
    with _backend(data_dir, database_url) as backend:
        account = backend.accounts.account_by_name(name)
        try:
            backend.accounts.revoke_token(account.id, key_id)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Revoked {name!r}'s token {key_id}.")
