"""The cpu tier: Tesseract, with PP-OCRv6 beside it for the scripts it reads better."""

from __future__ import annotations

from ocrchat.models import Tier
from ocrchat_server.engines.base import Engine
from ocrchat_server.engines.tiers import EngineRequest, Readiness, ServerState, TierEngine


def _create(request: EngineRequest) -> Engine:
    from ocrchat_server.engines.cpu import CpuEngine

    return CpuEngine(
        engine=request.recognizer,
        read_tables=request.read_tables,
        preparation=request.preparation,
    )


def _readiness(state: ServerState) -> Readiness:
    from ocrchat_server.engines import tesseract_api
    from ocrchat_server.engines.languages import NOT_LANGUAGES, installed_models

    try:
        return Readiness(
            ready=True,
            version=tesseract_api.version(),
            languages=sorted(installed_models() - NOT_LANGUAGES),
        )
    except OSError:
        return Readiness(
            ready=False, detail="Tesseract is not installed: apt-get install tesseract-ocr"
        )


TIER = TierEngine(
    tier=Tier.CPU, engine="tesseract", page_cost=1, create=_create, readiness=_readiness
)
