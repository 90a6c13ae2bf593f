"""``handwriting-to-text``: handwritten pages; Surya on the vlm tier, PP-OCRv6 on the cpu tier."""

from __future__ import annotations

from ocrchat.models import Tier
from ocrchat_server.engines.cpu import EngineChoiceError, check_engine
from ocrchat_server.jobs.errors import InvalidRequestError
from ocrchat_server.jobs.tools.base import ServerAbilities, ToolPreset, ToolRequest, ToolStatus

CPU_ENGINE = "ppocr"
"""What reads handwriting on the cpu tier: Tesseract reads none (corpus CER 0.87 against
0.29 for PP-OCRv6; docs/engines.md)."""


def _check(request: ToolRequest) -> None:
    if request.tier is not Tier.CPU:
        return
    try:
        check_engine(CPU_ENGINE, request.language)
    except EngineChoiceError as exc:
        raise InvalidRequestError(
            f"Handwriting on the cpu tier is read by PP-OCRv6, which does not read {exc}: "
            "send tier=vlm.",
            code="engine_cannot_read_language",
            language=str(exc),
        ) from exc


def _status(abilities: ServerAbilities) -> ToolStatus:
    # the cpu tier reads handwriting whatever the vlm tier's state
    vlm = abilities.vlm
    return ToolStatus(ready=True, detail=None if vlm.ready else f"vlm: {vlm.detail}")


TOOL = ToolPreset(
    slug="handwriting-to-text",
    description=(
        "Handwritten pages. vlm (the premium path): Surya. cpu: PP-OCRv6, which reads "
        "neat Latin-script and Chinese handwriting fairly (corpus CER 0.05 to 0.66 "
        "by hand), where Tesseract reads none."
    ),
    cpu_engine=CPU_ENGINE,
    check=_check,
    status=_status,
)
