"""How the models show themselves in Jupyter, a job's boxes drawn over a page image, and
its tables as pandas DataFrames.

Everything the server sent (text, Markdown, file names, answers) goes into the HTML
escaped: a page that reads ``<script>`` shows those characters, it never runs them.
Pillow and pandas are optional extras, imported only when a method needs them.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from ocrchat.models import Role

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd
    from PIL.Image import Image

    from ocrchat.models import ChatMessage, ChatReply, History, Job, Page, Table


def job_facts(job: Job) -> list[str]:
    """What a person wants to see of a job at a glance (the CLI and Jupyter both show it)."""
    facts = []
    if job.page_count is not None:
        facts.append(f"{job.page_count} page{'s' if job.page_count != 1 else ''}")
    if job.page_selection is not None:
        # only these were read (and charged): say so beside the file's page count
        facts.append(f"read: {job.page_selection}")
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


def line_width(image: Image) -> int:
    """A box's line width that reads the same on a thumbnail and on a 300-dpi scan: about
    a quarter of a percent of the image's longer side, at least one pixel."""
    return max(1, round(max(image.size) / 400))


def draw_boxes(
    job: Job, image: Image, *, page: int, color: str, width: int | None, upright: bool = False
) -> Image:
    """A copy of ``image`` (a PIL image of the page) with every block's box drawn on it.

    ``width`` is the boxes' line width in pixels; by default it scales with the image.
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
    width = line_width(canvas) if width is None else width
    for block in found.blocks:
        x0, y0, x1, y1 = block.bbox if upright else found.to_original(block.bbox)
        draw.rectangle(
            (x0 * scale_x, y0 * scale_y, x1 * scale_x, y1 * scale_y), outline=color, width=width
        )
    return canvas


# --- HTML -------------------------------------------------------------------------------

MAX_PAGES_SHOWN = 50
"""A job's HTML shows this many pages; the rest are in ``job.pages`` (a 2,000-page job
would make a notebook too heavy to open)."""

_FONT = "font-family: system-ui, sans-serif; font-size: 13px; line-height: 1.45"
_PRE = "white-space: pre-wrap; margin: 0.3em 0; max-height: 32em; overflow: auto; flex: 1"
_LEFT = "text-align: left; vertical-align: top; padding: 1px 8px 1px 0"
_QUIET = "color: #777; font-size: 11px"


def _e(value: object) -> str:
    """``value`` as HTML text: the server's text is data, never markup."""
    return html.escape(str(value), quote=True)


def _when(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(sep=" ", timespec="seconds")


def _facts_table(rows: Sequence[tuple[str, str | None]]) -> str:
    """A two-column table of facts; rows whose value is None are left out. Values are
    HTML already (escaped by the caller), labels are this module's own words."""
    cells = "".join(
        f'<tr><th style="{_LEFT}">{label}</th><td style="{_LEFT}">{value}</td></tr>'
        for label, value in rows
        if value is not None
    )
    return f'<table style="margin: 0.2em 0 0.6em 0"><tbody>{cells}</tbody></table>'


def _escaped(value: object | None) -> str | None:
    return None if value is None else _e(value)


def _mean_confidence(page: Page) -> float | None:
    if not page.blocks:
        return None
    return sum(block.confidence for block in page.blocks) / len(page.blocks)


def page_facts(page: Page) -> list[str]:
    """A page at a glance, for its heading in a job's HTML."""
    facts = [f"{len(page.blocks)} block{'s' if len(page.blocks) != 1 else ''}"]
    confidence = _mean_confidence(page)
    if confidence is not None:
        facts.append(f"confidence {confidence:.2f}")
    if page.tables:
        facts.append(f"{len(page.tables)} table{'s' if len(page.tables) != 1 else ''}")
    if page.rotation:
        facts.append(f"turned {page.rotation}°")
    if page.engine:
        facts.append(page.engine)
    return facts


def job_summary_html(job: Job) -> str:
    """The job's facts as a table: what it is, how it went, where it stands."""
    language = job.language
    if job.detected_languages:
        language += f" (found: {', '.join(job.detected_languages)})"
    tool = job.tool
    if tool and job.translated_to:
        tool += f" → {job.translated_to}"
    pages = None if job.page_count is None else str(job.page_count)
    if pages is not None and job.page_selection:
        pages += f" (read: {job.page_selection})"
    progress = job.progress
    status = f"<b>{_e(job.status.value)}</b>"
    error = None if not job.error else f'<span style="color: #b00020">{_e(job.error)}</span>'
    return _facts_table(
        [
            ("job", f"<code>{_e(job.uuid)}</code>"),
            ("status", status),
            ("tier", _e(job.tier.value)),
            ("language", _e(language)),
            ("tool", _escaped(tool)),
            ("pages", _escaped(pages)),
            (
                "confidence",
                None if job.mean_confidence is None else f"{job.mean_confidence:.2f}",
            ),
            (
                "progress",
                None
                if progress is None
                else f"{progress.pages_done}/{progress.pages_total} pages read",
            ),
            ("created", _escaped(_when(job.created_at))),
            ("finished", _escaped(_when(job.finished_at))),
            ("file", _escaped(job.filename)),
            ("error", error),
        ]
    )


def _pre(text: str) -> str:
    return f'<pre style="{_PRE}">{_e(text)}</pre>'


def _page_body(page: Page, thumbnail: str | None) -> str:
    text = _pre(page.markdown if page.markdown is not None else page.text)
    if thumbnail is None:
        return text
    return (
        '<div style="display: flex; gap: 1em; align-items: flex-start">'
        f"<div>{thumbnail}</div>{text}</div>"
    )


def job_html(
    job: Job, images: Mapping[int, Image] | None = None, *, size: int = 480, color: str = "red"
) -> str:
    """A job as HTML: its summary table, then each page's Markdown (the first shown, the
    others folded in ``<details>``), with a thumbnail of the page and its boxes beside it
    where ``images`` has the page's image (keyed by ``Page.index``)."""
    glance = " · ".join(
        ["<b>OCR job</b>", f"<b>{_e(job.status.value)}</b>", *map(_e, job_facts(job))]
    )
    parts = [f"<div>{glance}</div>"]
    parts.append(job_summary_html(job))
    pages = job.pages or []
    for number, page in enumerate(pages[:MAX_PAGES_SHOWN]):
        image = (images or {}).get(page.index)
        thumbnail = None if image is None else thumbnail_html(job, image, page.index, size, color)
        title = f"<b>Page {page.index + 1}</b> · {_e(' · '.join(page_facts(page)))}"
        body = _page_body(page, thumbnail)
        if number == 0:
            parts.append(f"<div>{title}{body}</div>")
        else:
            parts.append(f"<details><summary>{title}</summary>{body}</details>")
    if len(pages) > MAX_PAGES_SHOWN:
        parts.append(
            f"<p>… and {len(pages) - MAX_PAGES_SHOWN} more pages: <code>job.pages</code></p>"
        )
    if not pages and job.markdown:
        parts.append(_pre(job.markdown))
    return f'<div class="ocrchat-job" style="{_FONT}">{"".join(parts)}</div>'


def page_html(page: Page) -> str:
    """A page as HTML: a small table of its facts, then its text folded."""
    confidence = _mean_confidence(page)
    low = sum(1 for block in page.blocks if block.low_confidence)
    size = None if page.width is None or page.height is None else f"{page.width}×{page.height} px"
    text = page.markdown if page.markdown is not None else page.text
    facts = _facts_table(
        [
            ("page", f"{page.index + 1} <span style='{_QUIET}'>(index {page.index})</span>"),
            ("size", _escaped(size)),
            ("turned", None if not page.rotation else f"{page.rotation}°"),
            ("language", _escaped(page.language)),
            (
                "found",
                None if not page.detected_languages else _e(", ".join(page.detected_languages)),
            ),
            ("engine", _escaped(page.engine)),
            ("source", _escaped(page.source)),
            ("blocks", f"{len(page.blocks)}" + (f" ({low} low confidence)" if low else "")),
            ("confidence", None if confidence is None else f"{confidence:.2f}"),
            ("tables", str(len(page.tables)) if page.tables else None),
        ]
    )
    folded = f"<details><summary>Text ({len(text)} characters)</summary>{_pre(text)}</details>"
    return f'<div class="ocrchat-page" style="{_FONT}">{facts}{folded}</div>'


def table_html(table: Table) -> str:
    """A table's cells as an HTML table, its first row as the header (as ``to_pandas``
    reads it by default)."""
    if not table.rows:
        return f'<div style="{_FONT}">An empty table.</div>'
    head, *body = table.rows
    header = "".join(f'<th style="{_LEFT}">{_e(cell)}</th>' for cell in head)
    rows = "".join(
        "<tr>" + "".join(f'<td style="{_LEFT}">{_e(cell)}</td>' for cell in row) + "</tr>"
        for row in body
    )
    return (
        f'<table class="ocrchat-table" style="{_FONT}">'
        f"<thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"
    )


def message_html(message: ChatMessage) -> str:
    """One message of a conversation: who said it, what, and the lines it cites."""
    citations = "".join(
        f"<li>p. {citation.page}: “{_e(citation.snippet)}”</li>" for citation in message.citations
    )
    cited = f'<ol style="margin: 0.2em 0">{citations}</ol>' if citations else ""
    return (
        f'<div style="margin: 0.4em 0"><div><b>{_e(message.role.value)}</b></div>'
        f'<div style="white-space: pre-wrap">{_e(message.content)}</div>{cited}</div>'
    )


def reply_html(reply: ChatReply) -> str:
    """An answer with its citations (page numbers count from 1, as a reader does)."""
    return (
        f'<div class="ocrchat-reply" style="{_FONT}">{message_html(reply.message)}'
        f'<div style="{_QUIET}">conversation <code>{_e(reply.conversation)}</code></div></div>'
    )


def history_html(history: History) -> str:
    """A job's conversations, each folded but the latest."""
    if not history.conversations:
        return f'<div style="{_FONT}">No conversations yet.</div>'
    parts = []
    last = len(history.conversations) - 1
    for number, conversation in enumerate(history.conversations):
        first = next((m.content for m in conversation.messages if m.role is Role.USER), "")
        if len(first) > 80:
            first = first[:79] + "…"
        count = len(conversation.messages)
        summary = (
            f"Conversation <code>{_e(conversation.conversation)}</code> · "
            f"{count} message{'s' if count != 1 else ''}" + (f": {_e(first)}" if first else "")
        )
        messages = "".join(message_html(message) for message in conversation.messages)
        opened = " open" if number == last else ""
        parts.append(f"<details{opened}><summary>{summary}</summary>{messages}</details>")
    return f'<div class="ocrchat-history" style="{_FONT}">{"".join(parts)}</div>'


# --- page images ------------------------------------------------------------------------


def thumbnail_html(job: Job, image: Image, page: int, size: int, color: str) -> str:
    """A thumbnail of ``image`` (page ``page`` as uploaded) at most ``size`` pixels on its
    longer side, with the page's boxes drawn, as an ``<img>`` holding a base64 PNG."""
    small = image.convert("RGB")
    small.thumbnail((size, size))
    drawn = draw_boxes(job, small, page=page, color=color, width=None)
    buffer = io.BytesIO()
    drawn.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" width="{drawn.width}" '
        f'height="{drawn.height}" alt="page {page + 1} with its boxes" '
        'style="border: 1px solid #ccc; max-width: none">'
    )


def page_images(
    job: Job, images: Image | Sequence[Image] | Mapping[int, Image] | None
) -> dict[int, Image]:
    """``images`` by ``Page.index``: a mapping is taken as it is, a sequence goes with
    ``job.pages`` in order, a single image is the first page's."""
    pages = job.pages or []
    if images is None:
        return {}
    if isinstance(images, Mapping):
        unknown = sorted(set(images) - {page.index for page in pages})
        if unknown:
            raise ValueError(f"job {job.uuid} has no page with index {unknown[0]}")
        return dict(images)
    listed: Sequence[Image] = images if isinstance(images, Sequence) else [images]
    if len(listed) > len(pages):
        raise ValueError(f"{len(listed)} images for the {len(pages)} pages of job {job.uuid}")
    return {page.index: image for page, image in zip(pages, listed, strict=False)}


@attrs.frozen
class JobView:
    """What ``Job.show`` returns: in Jupyter, the job as HTML with a thumbnail
    of each page that has an image, its boxes drawn on it, beside the page's text."""

    job: Job
    """The job shown."""
    images: Mapping[int, Image]
    """Page images by ``Page.index``, as uploaded."""
    size: int = 480
    """The thumbnails' longer side, in pixels."""
    color: str = "red"
    """The boxes' colour, as PIL takes it (a name or ``#rrggbb``)."""

    def _repr_html_(self) -> str:
        return job_html(self.job, self.images, size=self.size, color=self.color)


# --- tables as DataFrames ---------------------------------------------------------------

_PANDAS_MISSING = "tables as DataFrames need pandas: pip install 'ocrchat[pandas]'"


def unique_columns(names: Sequence[str]) -> list[str]:
    """Column names from a header row: stripped, an empty one named ``column_<n>`` (its
    1-based position), and a repeated one suffixed ``.1``, ``.2``, ... as pandas'
    ``read_csv`` does."""
    seen: set[str] = set()
    columns = []
    for number, name in enumerate(names, start=1):
        base = name.strip() or f"column_{number}"
        candidate, repeat = base, 0
        while candidate in seen:
            repeat += 1
            candidate = f"{base}.{repeat}"
        seen.add(candidate)
        columns.append(candidate)
    return columns


def table_to_pandas(table: Table, *, header: bool) -> pd.DataFrame:
    """``Table.to_pandas``: the cells as a DataFrame, short rows padded with ""."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(_PANDAS_MISSING) from exc
    width = max((len(row) for row in table.rows), default=0)
    grid = [[*row, *[""] * (width - len(row))] for row in table.rows]
    if header and grid:
        return pd.DataFrame(grid[1:], columns=unique_columns(grid[0]))
    return pd.DataFrame(grid, columns=pd.RangeIndex(width))


def job_tables(job: Job) -> list[tuple[int, Table]]:
    """``Job.tables``: every table with its page's ``index``, in reading order."""
    return [(page.index, table) for page in job.pages or [] for table in page.tables]


TABLES_FRAME_COLUMNS = ("page", "table", "row", "column", "text")
"""The columns of ``Job.tables_frame``, one row per cell."""


def tables_frame(job: Job) -> pd.DataFrame:
    """``Job.tables_frame``: every table's cells in one long DataFrame."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(_PANDAS_MISSING) from exc
    cells = [
        (page, number, row_number, column, text)
        for number, (page, table) in enumerate(job_tables(job))
        for row_number, row in enumerate(table.rows)
        for column, text in enumerate(row)
    ]
    frame = pd.DataFrame(cells, columns=list(TABLES_FRAME_COLUMNS))
    return frame.astype({"page": "int64", "table": "int64", "row": "int64", "column": "int64"})
