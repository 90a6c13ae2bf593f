"""What every OCR engine offers the job layer: one page image in, one page reading out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import attrs

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat.models import BBox, Page
    from ocrchat_server.engines.languages import LanguageChoice


def declared_dpi(image: Image.Image) -> int | None:
    """The resolution the image file declares; None when it does not, or declares nonsense."""
    dpi = image.info.get("dpi")
    return round(float(dpi[0])) if dpi and float(dpi[0]) >= 20 else None


def on_white(image: Image.Image) -> Image.Image:
    """An image with transparency laid on white paper (RGB), as a page shows it."""
    from PIL import Image

    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


class EngineError(Exception):
    """A page the engine could not read; the message is short and safe to show a user."""


@attrs.frozen
class Word:
    text: str
    bbox: BBox
    line_box: BBox
    """The box of the word's line: the text layer takes its top and height from it."""


@attrs.frozen
class PageReading:
    """What the engine made of a page: the page as the API shows it, and what the
    worker needs besides while the image is at hand (the searchable PDF's words)."""

    page: Page
    image: Image.Image
    """The image the boxes refer to: the input, turned upright when it was not."""
    words: list[Word]
    dpi: int | None
    """The resolution the image declares, when it does."""


class Engine(Protocol):
    """An OCR engine. Implementations run inside worker processes, one page at a time."""

    def read_page(self, image: Image.Image, *, index: int, language: LanguageChoice) -> PageReading:
        """Recognize one page. ``index`` is the page's 0-based place in the file."""
        ...
