"""The one interface every download format implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from ocrchat.models import Block, Job, Page, Table


@attrs.frozen
class StoredPages:
    """A stored job's pages, read anew a page at a time each time they are iterated: a
    long job's are never all held, however often they are gone through."""

    read: Callable[[], Iterator[Page]]
    """Reads them (:meth:`ocrchat_server.jobs.interfaces.ResultStorage.iter_pages`)."""

    def __iter__(self) -> Iterator[Page]:
        return self.read()


@attrs.frozen
class ExportSource:
    """A finished job, as ``GET /api/v1/ocr/<uuid>/`` shows it, and its stored files."""

    job: Job
    """The job; for a streamed download (:class:`StreamingExporter`) without what grows
    with the document: its ``pages`` (see :attr:`pages`), ``text`` and ``markdown``."""
    searchable_pdf: Path
    pages: Iterable[Page] = attrs.field()
    """The job's pages in order: ``job.pages``, unless given apart (a streamed download's,
    :class:`StoredPages`). Go through them as often as needed, but keep no page from one
    pass to the next, only what is learnt of it: each pass may read them anew."""

    @pages.default
    def _job_pages(self) -> Iterable[Page]:
        return self.job.pages or []


class Exporter(Protocol):
    format: str
    media_type: str

    def export(self, source: ExportSource) -> bytes | Path:
        """The file's bytes, or the path of a file already on disk."""
        ...


@runtime_checkable
class StreamingExporter(Exporter, Protocol):
    """A format that can also be written in chunks, a page at a time, so that a long job's
    download never holds the whole file (hOCR, ALTO, PAGE-XML): send ``stream(source)``
    as it comes. Its ``export`` is the same bytes joined. It holds one page at a time of
    ``source.pages`` (a download gives it :class:`StoredPages`), so memory stays flat
    however long the job."""

    extension: str
    """The download's file name extension, where it is not the format's name (``alto.xml``,
    ``page.zip``)."""

    def stream(self, source: ExportSource) -> Iterator[bytes]:
        """The file's bytes, in order, a page or so at a time."""
        ...


def file_extension(exporter: Exporter) -> str:
    """The extension of the download's file name: ``extension`` of a streaming exporter,
    else the format (``docx``)."""
    return exporter.extension if isinstance(exporter, StreamingExporter) else exporter.format


def block_row(page: Page, block: Block) -> list[object]:
    """The fields a row of blocks carries in csv and xlsx: page (1-based), text, box, confidence."""
    x0, y0, x1, y1 = block.bbox
    return [page.index + 1, block.text, x0, y0, x1, y1, block.confidence]


BLOCK_HEADER = ["page", "text", "x0", "y0", "x1", "y1", "confidence"]


def numbered_tables(pages: Iterable[Page]) -> list[tuple[Page, int, Table]]:
    """Every table of the document with its 1-based number on its page."""
    return [
        (page, number, table) for page in pages for number, table in enumerate(page.tables, start=1)
    ]
