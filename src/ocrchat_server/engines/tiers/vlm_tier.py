"""The vlm tier: Surya, served by an inference server (handwriting, layout, tables, math)."""

from __future__ import annotations

from ocrchat.models import Tier
from ocrchat_server.engines.base import Engine, EngineError
from ocrchat_server.engines.tiers import EngineRequest, Readiness, ServerState, TierEngine


def _create(request: EngineRequest) -> Engine:
    if request.vlm is None:
        raise EngineError("The vlm tier is not configured on this server any more.")
    # the vlm tier's modules (Surya's HTML, bs4, markdownify) load in the workers that use it
    from ocrchat_server.engines.surya import SuryaEngine

    return SuryaEngine(request.vlm, read_tables=request.read_tables)


def _readiness(state: ServerState) -> Readiness:
    status = state.vlm
    return Readiness(
        ready=status.ready,
        configured=status.configured,
        detail=status.detail,
        retry_after=status.retry_after,
        model=status.model,
    )


TIER = TierEngine(tier=Tier.VLM, engine="surya", page_cost=3, create=_create, readiness=_readiness)
