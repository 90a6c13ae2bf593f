"""The tools of ``POST /api/v1/ocr/``'s ``tool`` parameter: presets over the tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ocrchat_server.engines.vlm_server import VlmStatus

EXTRACT_TABLES = "extract-tables"
HANDWRITING = "handwriting-to-text"
TRANSLATE = "translate"
HANDWRITING_ENGINE = "ppocr"
"""What reads handwriting on the cpu tier: Tesseract reads none (corpus CER 0.87 against
0.29 for PP-OCRv6; docs/engines.md)."""


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
            "Handwritten pages. vlm (the premium path): Surya. cpu: PP-OCRv6, which reads "
            "neat Latin-script and Chinese handwriting fairly (corpus CER 0.05 to 0.66 "
            "by hand), where Tesseract reads none.",
            tiers=["cpu", "vlm"],
            ready=True,
            detail=None if vlm.ready else f"vlm: {vlm.detail}",
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
