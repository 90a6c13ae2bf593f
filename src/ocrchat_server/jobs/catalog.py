"""What this server offers: its tools and its tiers' engines, and whether each can run now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrchat.models import Engine, Engines, Tier, Tools
from ocrchat_server.engines import tesseract_api
from ocrchat_server.engines.languages import installed_models
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
        try:
            cpu = Engine(
                tier=Tier.CPU,
                engine="tesseract",
                ready=True,
                version=tesseract_api.version(),
                languages=sorted(installed_models() - {"osd"}),
            )
        except OSError:
            cpu = Engine(
                tier=Tier.CPU,
                engine="tesseract",
                ready=False,
                detail="Tesseract is not installed: apt-get install tesseract-ocr",
            )
        status = await self.vlm.status()
        vlm = Engine(
            tier=Tier.VLM,
            engine="surya",
            ready=status.ready,
            configured=status.configured,
            model=status.model,
            detail=status.detail,
        )
        return Engines([cpu, vlm])
