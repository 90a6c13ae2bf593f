"""What every OCR engine offers the job layer: one page image in, one page out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat.models import Page
    from ocrchat_server.engines.languages import LanguageChoice


class EngineError(Exception):
    """A page the engine could not read; the message is short and safe to show a user."""


class Engine(Protocol):
    """An OCR engine. Implementations run inside worker processes, one page at a time."""

    def read_page(self, image: Image.Image, *, index: int, language: LanguageChoice) -> Page:
        """Recognize one page. ``index`` is the page's 0-based place in the file."""
        ...
