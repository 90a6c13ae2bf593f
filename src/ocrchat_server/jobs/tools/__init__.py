"""The tools of ``POST /api/v1/ocr/``'s ``tool`` parameter: presets over the tiers.

Each tool is one module here that defines ``TOOL``, a :class:`ToolPreset`:
its description and tiers, the checks of a request, how its pages are read
and what is done with them afterwards. Adding a tool is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from ocrchat.models import TOOLS as TOOL_NAMES
from ocrchat.models import Tool
from ocrchat_server.jobs.tools.base import (
    FinishedPages,
    ServerAbilities,
    ToolPreset,
    ToolRequest,
    ToolStatus,
)

__all__ = [
    "TOOLS",
    "FinishedPages",
    "ServerAbilities",
    "ToolPreset",
    "ToolRequest",
    "ToolStatus",
    "preset",
    "tool_list",
]


def _discover() -> dict[str, ToolPreset]:
    found: dict[str, ToolPreset] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        if module.name != "base":
            tool: ToolPreset = importlib.import_module(f"{__name__}.{module.name}").TOOL
            found[tool.slug] = tool
    # the SDK's ToolName is what users type against: both lists change together
    if set(found) != set(TOOL_NAMES):
        raise RuntimeError(f"tools {sorted(found)} differ from ocrchat.models.ToolName")
    return found


TOOLS: dict[str, ToolPreset] = _discover()
"""Every tool, by its slug."""


def preset(slug: str | None) -> ToolPreset | None:
    """The tool a job was asked with (None for none, or one no longer offered)."""
    return TOOLS.get(slug) if slug is not None else None


def tool_list(abilities: ServerAbilities) -> list[Tool]:
    """The tools this server offers, and whether each can run now."""
    listed = []
    for tool in TOOLS.values():
        status = tool.status(abilities)
        listed.append(
            Tool(
                slug=tool.slug,
                description=tool.description,
                tiers=list(tool.tiers),
                ready=status.ready,
                needs=tool.needs,
                detail=status.detail,
            )
        )
    return listed
