"""The tiers' engines, each registered once: its tier, how a worker makes it, whether it
can read now, and what a page costs by default.

Each tier is one module here that defines ``TIER``, a :class:`TierEngine`;
adding a tier's engine is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ocrchat.models import Tier

if TYPE_CHECKING:
    from ocrchat_server.engines.base import Engine
    from ocrchat_server.engines.vlm_server import SuryaConnection, VlmStatus


@attrs.frozen
class EngineRequest:
    """What a page asks of its tier's engine."""

    recognizer: str = "auto"
    """The cpu tier's recognizer: ``auto``, ``tesseract`` or ``ppocr``."""
    read_tables: bool = False
    preparation: tuple[str, ...] = ()
    vlm: SuryaConnection | None = None
    """Where the vlm tier's inference server is, when it is configured."""


@attrs.frozen
class Readiness:
    """Whether a tier's engine can read now, and what it is."""

    ready: bool
    configured: bool = True
    detail: str | None = None
    """Why it cannot read, in a sentence for the user."""
    retry_after: int | None = None
    """Seconds worth waiting, when it is on its way up."""
    version: str | None = None
    languages: list[str] | None = None
    model: str | None = None


@attrs.frozen
class ServerState:
    """What the tiers' readiness depends on, looked up once for all of them."""

    vlm: VlmStatus


@attrs.frozen
class TierEngine:
    tier: Tier
    engine: str
    """The engine's name as ``GET /api/v1/engines/`` shows it."""
    page_cost: int
    """Credits a page costs unless the plans file says otherwise."""
    create: Callable[[EngineRequest], Engine]
    """Makes the engine, inside a worker process (heavy imports belong here)."""
    readiness: Callable[[ServerState], Readiness]


def _discover() -> dict[Tier, TierEngine]:
    found: dict[Tier, TierEngine] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        entry: TierEngine = importlib.import_module(f"{__name__}.{module.name}").TIER
        found[entry.tier] = entry
    return found


TIER_ENGINES: dict[Tier, TierEngine] = _discover()
"""Every tier's engine, by tier."""
