"""How a job shows itself in Jupyter, and its boxes drawn over a page image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocrchat.models import Job


def job_facts(job: Job) -> list[str]:
    """What a person wants to see of a job at a glance (the CLI and Jupyter both show it)."""
    facts = []
    if job.page_count is not None:
        facts.append(f"{job.page_count} page{'s' if job.page_count != 1 else ''}")
    if job.mean_confidence is not None:
        facts.append(f"confidence {job.mean_confidence:.2f}")
    if job.progress is not None and not job.status.finished:
        facts.append(f"{job.progress.pages_done}/{job.progress.pages_total} pages read")
    return facts


def job_markdown(job: Job) -> str:
    """A one-line summary, then the document's Markdown once the job is done."""
    summary = f"OCR job `{job.uuid}`: " + " · ".join([f"**{job.status.value}**", *job_facts(job)])
    if job.error:
        return f"{summary}\n\n> {job.error}"
    if job.markdown:
        return f"{summary}\n\n---\n\n{job.markdown}"
    return summary


def draw_boxes(
    job: Job, image: Any, *, page: int, color: str, width: int, upright: bool = False
) -> Any:
    """A copy of ``image`` (a PIL image of the page) with every block's box drawn on it.

    ``image`` is the page as uploaded (the default), or with ``upright=True`` as the server
    read it, turned by the page's ``rotation``: the boxes are converted to the image's frame
    (a sideways scan's boxes once came out stretched over it). They are scaled from the
    size the engine read to the image's size, so a thumbnail or a higher-resolution render
    works too.
    """
    try:
        from PIL import ImageDraw
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("drawing boxes needs Pillow: pip install 'ocrchat[jupyter]'") from exc
    if not job.pages:
        raise ValueError(f"job {job.uuid} has no pages yet (status {job.status.value})")
    found = next((p for p in job.pages if p.index == page), None)
    if found is None:
        raise ValueError(f"job {job.uuid} has no page with index {page}")
    canvas = image.convert("RGB")
    size = (found.width, found.height) if upright else found.original_size
    scale_x = canvas.width / size[0] if size and size[0] else 1.0
    scale_y = canvas.height / size[1] if size and size[1] else 1.0
    draw = ImageDraw.Draw(canvas)
    for block in found.blocks:
        x0, y0, x1, y1 = block.bbox if upright else found.to_original(block.bbox)
        draw.rectangle(
            (x0 * scale_x, y0 * scale_y, x1 * scale_x, y1 * scale_y), outline=color, width=width
        )
    return canvas
