"""What this server offers: its tools and its tiers' engines, and whether each can run now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrchat.models import Engine, Engines, Tools
from ocrchat_server.engines.tiers import TIER_ENGINES, ServerState
from ocrchat_server.jobs.tools import ServerAbilities, tool_list

if TYPE_CHECKING:
    from ocrchat_server.engines.vlm_server import VlmServer
    from ocrchat_server.settings import Settings


class Catalog:
    def __init__(self, *, settings: Settings, vlm: VlmServer) -> None:
        self.settings = settings
        self.vlm = vlm

    async def tools(self) -> Tools:
        status = await self.vlm.status()
        abilities = ServerAbilities(vlm=status, translator=self.settings.llm_endpoint is not None)
        return Tools(tool_list(abilities))

    async def engines(self) -> Engines:
        state = ServerState(vlm=await self.vlm.status())
        listed = []
        for entry in TIER_ENGINES.values():
            readiness = entry.readiness(state)
            listed.append(
                Engine(
                    tier=entry.tier,
                    engine=entry.engine,
                    ready=readiness.ready,
                    configured=readiness.configured,
                    version=readiness.version,
                    languages=readiness.languages,
                    model=readiness.model,
                    detail=readiness.detail,
                )
            )
        return Engines(listed)
