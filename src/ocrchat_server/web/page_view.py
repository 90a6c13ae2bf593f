"""A done job's pages as the job page draws them: each block's box in percent of its page,
so that the boxes sit over the page image at whatever size the browser shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ocrchat.models import Block, Job, Page, Table

LOW_CONFIDENCE = 0.85
"""Below this a block is tinted, as the cpu tier's own ``low_confidence`` flag marks it
(the vlm tier's scores carry no flag)."""
IMAGE_WIDTH = 1200
"""The width the page images are rendered at (exports/page_images.py); with the page's
aspect it reserves each image's space before it loads, so lazy loading does not jump."""


@attrs.frozen
class BoxView:
    index: int
    text: str
    confidence: float
    bbox: str
    """``x0,y0,x1,y1`` in the page's pixels, as the job JSON has it (and citations)."""
    style: str
    low: bool


@attrs.frozen
class PageView:
    number: int
    """1-based, as the file counts its pages (a citation's ``page``)."""
    width: int | None
    height: int | None
    image_height: int
    boxes: list[BoxView]
    tables: list[Table]


def _percent(value: float) -> str:
    return f"{value:.3f}%"


def _box(index: int, block: Block, page: Page) -> BoxView:
    x0, y0, x1, y1 = block.bbox
    width, height = page.width or 1, page.height or 1
    style = (
        f"left:{_percent(100 * x0 / width)};top:{_percent(100 * y0 / height)};"
        f"width:{_percent(100 * (x1 - x0) / width)};height:{_percent(100 * (y1 - y0) / height)}"
    )
    low = (
        block.low_confidence
        if block.low_confidence is not None
        else block.confidence < LOW_CONFIDENCE
    )
    return BoxView(
        index=index,
        text=block.text,
        confidence=block.confidence,
        bbox=",".join(str(value) for value in block.bbox),
        style=style,
        low=low,
    )


def job_pages(job: Job) -> list[PageView]:
    views = []
    for page in job.pages or []:
        sized = bool(page.width and page.height)
        boxes = [_box(i, block, page) for i, block in enumerate(page.blocks)] if sized else []
        views.append(
            PageView(
                number=page.index + 1,
                width=page.width,
                height=page.height,
                image_height=round(IMAGE_WIDTH * (page.height or 1) / (page.width or 1)),
                boxes=boxes,
                tables=page.tables,
            )
        )
    return views
