"""The tools of ``POST /api/v1/ocr/``'s ``tool`` parameter: presets over the tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ocrchat_server.engines.vlm_server import VlmStatus

EXTRACT_TABLES = "extract-tables"
HANDWRITING = "handwriting-to-text"
TRANSLATE = "translate"


@attrs.frozen
class ToolInfo:
    slug: str
    description: str
    tiers: list[str]
    """The tiers the tool runs on."""
    ready: bool
    needs: str | None = None
    """A parameter the tool needs besides ``tool``."""
    detail: str | None = None
    """When not ready: what the operator has to configure."""


TRANSLATOR_NOT_CONFIGURED = (
    "The translate tool needs a language model: start ocrchat-server with --llm-url "
    "(an OpenAI-compatible endpoint) and --llm-model."
)


def tool_list(*, vlm: VlmStatus, translator: bool) -> list[ToolInfo]:
    """The tools this server offers, and whether each can run now."""
    return [
        ToolInfo(
            EXTRACT_TABLES,
            "Tables as structured rows (page tables), Markdown tables, and in the csv, "
            "xlsx and docx downloads. cpu: img2table and Tesseract; vlm: Surya's table "
            "recognition.",
            tiers=["cpu", "vlm"],
            ready=True,
        ),
        ToolInfo(
            HANDWRITING,
            "Handwritten pages, read by Surya on the vlm tier (a cpu request is refused, "
            "not moved to the dearer tier).",
            tiers=["vlm"],
            ready=vlm.ready,
            detail=None if vlm.ready else vlm.detail,
        ),
        ToolInfo(
            TRANSLATE,
            "The OCR text and Markdown translated into translate_to by the configured "
            "language model; the original is kept beside it.",
            tiers=["cpu", "vlm"],
            ready=translator,
            needs="translate_to",
            detail=None if translator else TRANSLATOR_NOT_CONFIGURED,
        ),
    ]


TOOL_SLUGS = (EXTRACT_TABLES, HANDWRITING, TRANSLATE)
