"""Every server option in one place. The command line fills it; tests build it directly."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import attrs

from ocrchat_server.engines.languages import MAX_MODELS
from ocrchat_server.engines.preparation import STEPS
from ocrchat_server.engines.vlm_server import DEFAULT_MODEL
from ocrchat_server.jobs.plans import Plans
from ocrchat_server.llm import ChatEndpoint

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """``90`` (seconds), ``30m``, ``12h``, ``7d`` or ``2w``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 7d, 12h, 30m or seconds)")
    return dt.timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "ocrchat-server"


@attrs.frozen
class Settings:
    data_dir: Path = attrs.field(factory=default_data_dir, converter=Path)
    workers: int = attrs.field(factory=lambda: os.cpu_count() or 1)
    worker_max_pages: int | None = 500
    """A worker process is replaced after reading this many pages (None: never)."""
    worker_max_rss_mb: int | None = 2048
    """... or as soon as its resident memory after a page is above this (None: never)."""
    """Worker processes, each OCRing one page at a time."""
    preparation: tuple[str, ...] = STEPS
    """The page preparation steps run before PP-OCRv6 reads a page (engines/preparation.py)."""
    inline_page_limit: int = 5
    """Files with this many pages or fewer are processed before the POST answers."""
    max_upload_bytes: int = 100 * 1024 * 1024
    max_pages: int = 2000
    max_page_pixels: int = 64_000_000
    """The most pixels an image page may have (a 600-dpi A4 scan has 35 million); bigger
    uploads are refused with a 400 instead of costing gigabytes for one page. PDF pages are
    rendered at a resolution that keeps them under ``MAX_PAGE_SIDE`` instead."""
    max_models: int = MAX_MODELS
    """The most language models one request may name (``deu+eng+fra`` is three)."""
    page_timeout: dt.timedelta | None = dt.timedelta(minutes=5)
    """The time limit for one page, rasterizing and recognizing: its worker (and the
    rasterizer it started) is stopped past it, and the page fails. None: no limit."""
    body_timeout: dt.timedelta | None = dt.timedelta(seconds=30)
    """How long an upload's body may send nothing before it is answered 408 (None: for
    ever). The request head's own limit is uvicorn's side (``serve --header-timeout``)."""
    requests_per_minute: int | None = 1200
    """Requests one account may send in any sixty seconds before it is answered 429
    (None: no limit). Polling every 2 s, as the SDK does, is 30 a minute per job."""
    queued_pages_per_account: int | None = 20_000
    """Pages one account may have waiting or being read at once; a file that would go
    over is answered 429 (None: no cap)."""
    pages_in_flight_per_account: int | None = None
    """The most pages of one account read at once (None: as many as there are workers;
    pages are shared out by account whenever several are waiting)."""
    retention: dt.timedelta = dt.timedelta(days=7)
    """How long a finished job's results are kept."""
    webhook_private_addresses: bool = False
    """Whether a ``webhook_url`` may point at a loopback, private, link-local or other
    non-public address (refused by default: server-side request forgery)."""
    ui: bool = True
    """Whether the web app is served at ``/`` (``--no-ui``: the API alone)."""
    web_session_ttl: dt.timedelta = dt.timedelta(hours=12)
    """How long a web app sign-in lasts."""
    webhook_retry_delays: tuple[float, ...] = (5, 60, 300, 1800, 7200, 18000, 36000)
    """Seconds before each retry of a failed delivery (about 17 hours in all); after the
    last, the delivery is ``failed``."""
    webhook_timeout: dt.timedelta = dt.timedelta(seconds=10)
    """How long a receiver has to answer one delivery."""
    sweep_interval: dt.timedelta = dt.timedelta(minutes=1)
    """How often expired results are looked for, and (scale-out) jobs left with no page in
    the broker because a send of theirs was refused."""
    plans: Plans = attrs.field(factory=Plans)
    """Plans, page costs and the default plan (built in, or from ``--plans FILE``)."""
    llm_url: str | None = None
    """An OpenAI-compatible endpoint (``.../v1``) for chat; None: retrieval answers."""
    llm_model: str | None = None
    llm_api_key: str | None = attrs.field(default=None, repr=False)
    llm_timeout: float = 60.0
    vlm_url: str | None = None
    """The vlm tier's inference server (``http://HOST:PORT/v1``); None: not configured."""
    vlm_model: str = DEFAULT_MODEL
    """The model name the inference server serves Surya 2 under."""
    vlm_llama_server: Path | None = attrs.field(
        default=None, converter=attrs.converters.optional(Path)
    )
    """Without ``vlm_url``: a ``llama-server`` binary Surya starts with the two files below."""
    vlm_gguf: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    vlm_mmproj: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    database_url: str | None = attrs.field(default=None, repr=False)
    """Scale-out: a PostgreSQL URL for jobs, accounts, charges and conversations (None: the
    embedded SQLite file in the data dir). Kept out of ``repr``: it may hold a password."""
    broker_url: str | None = attrs.field(default=None, repr=False)
    """Scale-out: a Redis URL; Celery workers (``ocrchat-server worker``) read the pages."""
    storage: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    """Scale-out: a directory every host mounts (uploads, page results, PDFs); None: the
    data dir."""
    pages_in_flight_per_job: int = 8
    """Scale-out: the most pages of one job queued at once, so that other accounts' pages
    are interleaved with a long job's instead of waiting behind all of it."""
    page_visibility_timeout: dt.timedelta = dt.timedelta(minutes=10)
    """Scale-out: how long a page's task may stay unacknowledged before the broker gives it
    to another worker (its worker died). Longer than the slowest page takes."""
    inline_wait: dt.timedelta = dt.timedelta(minutes=2)
    """Scale-out: how long a small file's POST waits for its job; after that it answers
    202 and the job goes on."""

    @property
    def scale_out(self) -> bool:
        return self.database_url is not None

    @property
    def llm_endpoint(self) -> ChatEndpoint | None:
        """The language model chat and the translate tool use, when one is configured."""
        if not self.llm_url:
            return None
        return ChatEndpoint(
            url=self.llm_url,
            model=self.llm_model or "default",
            api_key=self.llm_api_key,
            timeout=self.llm_timeout,
        )

    @property
    def database(self) -> Path:
        return self.data_dir / "ocrchat.sqlite3"
