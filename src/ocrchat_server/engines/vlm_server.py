"""The vlm tier's inference server, as the server process sees it.

Two ways to have one:

- ``--vlm-url``: a server someone runs already (``llama-server`` or vLLM
  serving Surya 2's model). We only attach.
- ``--vlm-llama-server BINARY --vlm-gguf MODEL --vlm-mmproj MMPROJ``: Surya's
  own llama.cpp backend starts ``llama-server`` from those files when this
  server starts (Surya stops it when this server's process exits). The
  workers attach to it by URL like to any other.

Before a vlm job is accepted (and charged) the server is asked whether it is
up: ``/health`` and ``/v1/models``, the same two checks Surya makes. The
answer is kept a few seconds so a burst of requests asks once.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import attrs
import httpx

if TYPE_CHECKING:
    from ocrchat_server.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "datalab-to/surya-ocr-2"
"""The model name Surya asks the inference server for (``/v1/models`` must list it)."""


@attrs.frozen
class SuryaConnection:
    """How the workers reach the inference server."""

    url: str
    """OpenAI-compatible base URL ending in ``/v1``."""
    model: str = DEFAULT_MODEL


_PROBE_TIMEOUT = 2.0
_STATUS_TTL = 5.0
_LOADING_RETRY_AFTER = 30
"""What a 503 asks clients to wait while the model loads: llama-server takes a while."""

NOT_CONFIGURED = (
    "The vlm tier (Surya) is not configured on this server: start ocrchat-server with "
    "--vlm-url http://HOST:PORT/v1 (a llama-server or vLLM serving datalab-to/surya-ocr-2), "
    "or with --vlm-llama-server, --vlm-gguf and --vlm-mmproj to have it started; "
    "or use tier=cpu."
)


SURYA_INSTALLED = importlib.util.find_spec("surya") is not None
SURYA_MISSING = (
    "The vlm tier is configured but Surya's client is not installed on this server: "
    "pip install -e '.[vlm]' torch==2.13.0 (see docs/vlm.md)."
)


@attrs.frozen
class VlmStatus:
    configured: bool
    ready: bool
    detail: str
    url: str | None = None
    model: str | None = None
    retry_after: int | None = None
    """Seconds worth waiting, when the server is on its way up (loading its model)."""


def health_url(url: str) -> str:
    """Surya's rule: ``/health`` sits beside ``/v1``, not under it."""
    base = url.rstrip("/")
    return (base[: -len("/v1")] if base.endswith("/v1") else base) + "/health"


async def probe(url: str, model: str, *, timeout: float = _PROBE_TIMEOUT) -> VlmStatus:
    """Whether the server at ``url`` is up and serves ``model``."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            health = await client.get(health_url(url))
            if health.status_code != 200:
                return VlmStatus(
                    True,
                    False,
                    f"The vlm server at {url} is not ready (/health answered "
                    f"{health.status_code}); it may still be loading its model.",
                    url,
                    model,
                    retry_after=_LOADING_RETRY_AFTER,
                )
            served = await _served_model(client, url)
    except httpx.HTTPError:
        return VlmStatus(
            True, False, f"The vlm server at {url} cannot be reached; is it running?", url, model
        )
    if served is not None and served != model:
        return VlmStatus(
            True,
            False,
            f"The vlm server at {url} serves {served!r}, not {model!r}: "
            f"start it with --alias {model} or give --vlm-model {served}.",
            url,
            model,
        )
    return VlmStatus(True, True, "ready", url, model)


async def _served_model(client: httpx.AsyncClient, url: str) -> str | None:
    try:
        models = (await client.get(f"{url.rstrip('/')}/models")).json()
        return str(models["data"][0]["id"])
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        return None  # Surya keeps its configured name when this fails; so do we


def configured_connection(settings: Settings) -> SuryaConnection | None:
    """The inference server ``--vlm-url`` names, if it names one."""
    return SuryaConnection(settings.vlm_url, settings.vlm_model) if settings.vlm_url else None


class VlmServer:
    """Where the vlm tier's inference server is, whether it is up, and starting it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection: SuryaConnection | None = configured_connection(settings)
        self._backend: Any = None
        self._start_error: str | None = None
        self._starting = self.spawns  # until start() has run
        self._cached: tuple[float, VlmStatus] | None = None

    @property
    def spawns(self) -> bool:
        return self.settings.vlm_url is None and self.settings.vlm_llama_server is not None

    @property
    def configured(self) -> bool:
        return self.connection is not None or self.spawns

    async def start(self) -> None:
        """Start ``llama-server`` through Surya when asked to; returns once it is up or failed."""
        if not self.spawns or self.connection is not None:
            return
        self._starting = True
        try:
            self.connection = await asyncio.to_thread(self._spawn)
            log.info("vlm server started at %s", self.connection.url)
        except Exception as exc:
            self._start_error = f"The vlm server could not be started: {exc}"
            log.error("%s", self._start_error)
        finally:
            self._starting = False
            self._cached = None

    def _spawn(self) -> SuryaConnection:
        settings = self.settings
        os.environ.pop("SURYA_INFERENCE_URL", None)
        from surya.inference.backends.llamacpp import LlamaCppBackend
        from surya.settings import settings as surya_settings

        surya_settings.SURYA_INFERENCE_URL = None
        surya_settings.SURYA_INFERENCE_AUTOSTART = True
        surya_settings.SURYA_INFERENCE_KEEP_ALIVE = False
        surya_settings.LLAMA_CPP_BINARY = str(settings.vlm_llama_server)
        surya_settings.SURYA_GGUF_LOCAL_MODEL_PATH = str(settings.vlm_gguf)
        surya_settings.SURYA_GGUF_LOCAL_MMPROJ_PATH = str(settings.vlm_mmproj)
        surya_settings.SURYA_MODEL_CHECKPOINT = settings.vlm_model
        backend = LlamaCppBackend()
        handle = backend.start()
        self._backend = backend
        return SuryaConnection(handle.base_url, handle.model_name)

    async def stop(self) -> None:
        # Surya's own exit hook stops the llama-server it spawned; this drops our handle
        if self._backend is not None:
            await asyncio.to_thread(self._backend.stop)
            self._backend = None

    async def status(self) -> VlmStatus:
        if self.configured and not SURYA_INSTALLED:
            return VlmStatus(True, False, SURYA_MISSING)
        if self.connection is None:
            if self._starting:
                return VlmStatus(
                    True,
                    False,
                    "The vlm server is starting; try again shortly.",
                    retry_after=_LOADING_RETRY_AFTER,
                )
            if self._start_error:
                return VlmStatus(True, False, self._start_error)
            return VlmStatus(False, False, NOT_CONFIGURED)
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < _STATUS_TTL:
            return self._cached[1]
        status = await probe(self.connection.url, self.connection.model)
        self._cached = (now, status)
        return status
