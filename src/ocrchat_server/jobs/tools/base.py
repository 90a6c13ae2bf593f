"""What a tool preset is: everything one tool changes, in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ocrchat.models import Tier

if TYPE_CHECKING:
    from ocrchat.models import Page
    from ocrchat_server.engines.languages import LanguageChoice
    from ocrchat_server.engines.translation import Translator
    from ocrchat_server.engines.vlm_server import VlmStatus
    from ocrchat_server.jobs.records import JobRecord


@attrs.frozen
class ServerAbilities:
    """What the server can do now; a tool's readiness depends on it."""

    vlm: VlmStatus
    translator: bool
    """Whether a language model endpoint is configured."""


@attrs.frozen
class ToolStatus:
    ready: bool
    detail: str | None = None
    """What the operator has to configure, where something is missing."""


@attrs.frozen
class ToolRequest:
    """A job asked for with this tool, its language already resolved."""

    tier: Tier
    language: LanguageChoice
    translate_to: str | None
    translator: bool
    """Whether a language model endpoint is configured."""


@attrs.frozen
class FinishedPages:
    pages: list[Page]
    translated_to: str | None = None
    """Set when the pages' text is a translation (their originals are kept beside it)."""


def _accept(request: ToolRequest) -> None:
    return None


def _always_ready(abilities: ServerAbilities) -> ToolStatus:
    return ToolStatus(ready=True)


@attrs.frozen
class ToolPreset:
    """One value of ``tool``: what it offers, what it checks, how pages are read and
    what is done with them once read."""

    slug: str
    description: str
    tiers: tuple[Tier, ...] = (Tier.CPU, Tier.VLM)
    needs: str | None = None
    """The one request parameter that only this tool takes, and that it needs."""
    read_tables: bool = False
    """Pages are read with their tables' structure."""
    cpu_engine: str | None = None
    """The cpu tier's recognizer this tool reads with, whatever ``engine`` asked."""
    check: Callable[[ToolRequest], None] = _accept
    """Refuses, with :class:`~ocrchat_server.jobs.errors.InvalidRequestError`, a request
    the tool cannot serve; runs before anything is charged."""
    status: Callable[[ServerAbilities], ToolStatus] = _always_ready
    finish: Callable[[list[Page], JobRecord, Translator | None], FinishedPages] | None = None
    """Post-processing of the read pages, once all are read."""
