"""``hocr``: hOCR 1.2, as XHTML the way Tesseract writes it, every page an ``ocr_page``.

The head has ``ocr-system`` (ocrchat-server and its version, and the engines that
read the pages with theirs), ``ocr-capabilities`` (the classes and properties used),
``ocr-number-of-pages`` and ``ocr-langs`` (the languages found). Each ``ocr_page``
has ``image`` (the page image's file name: see :mod:`.layout`), ``bbox`` (the image
as uploaded: coordinates are in it) and ``ppageno`` (its 0-based place in the file),
and ``lang`` (its main language); in it, an ``ocr_carea`` per region holding its
``ocr_par``, an ``ocr_line`` per line and an ``ocrx_word`` per word, each with its
``bbox``, the words with ``x_wconf`` (confidence 0 to 100). A page the server turned
upright to read has ``textangle`` on its lines: the degrees counterclockwise the text
lies turned in the image.

The document is written a page at a time (lxml's incremental writer), from pages read
a page at a time (:class:`~ocrchat_server.exports.base.StoredPages`): a long job's file,
and its pages, are never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
from lxml import etree

from ocrchat_server.engines.words import unspaced
from ocrchat_server.exports.base import ExportSource
from ocrchat_server.exports.layout import (
    SOFTWARE,
    SOFTWARE_VERSION,
    ChunkSink,
    DocumentFacts,
    PageLayout,
    document_facts,
    engine_description,
    layouts,
    xml_text,
)

if TYPE_CHECKING:
    from ocrchat.models import BBox, Job

NAMESPACE = "http://www.w3.org/1999/xhtml"
DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf ocrp_lang"


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _bbox(bbox: BBox) -> str:
    return "bbox {} {} {} {}".format(*bbox)


def _quoted(text: str) -> str:
    """A file name as a title property's quoted string: without the quotes and semicolons
    that would end it."""
    return '"' + xml_text(text).replace('"', "").replace(";", "") + '"'


def _head(job: Job, facts: DocumentFacts) -> etree._Element:
    head = etree.Element(_tag("head"), nsmap={None: NAMESPACE})
    etree.SubElement(head, _tag("title")).text = xml_text(job.filename or job.uuid)
    etree.SubElement(
        head, _tag("meta"), {"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"}
    )
    engines = "; ".join(engine_description(engine) for engine in facts.engines_used)
    system = f"{SOFTWARE} {SOFTWARE_VERSION}" + (f" ({engines})" if engines else "")
    metas = {
        "ocr-system": system,
        "ocr-capabilities": CAPABILITIES,
        "ocr-number-of-pages": str(facts.page_count),
    }
    if facts.languages:
        metas["ocr-langs"] = " ".join(facts.languages)
    for name, content in metas.items():
        etree.SubElement(head, _tag("meta"), name=name, content=content)
    return head


def _page(layout: PageLayout) -> etree._Element:
    n = layout.number
    title = "; ".join(
        (
            f"image {_quoted(layout.image)}",
            _bbox((0, 0, layout.width, layout.height)),
            f"ppageno {layout.index}",
        )
    )
    page = etree.Element(
        _tag("div"),
        {"class": "ocr_page", "id": f"page_{n}", "title": title},
        nsmap={None: NAMESPACE},
    )
    language = layout.languages[0] if layout.languages else None
    if language:
        page.set("lang", language)
    angle = f"; textangle {layout.rotation}" if layout.rotation else ""
    for r, region in enumerate(layout.regions, start=1):
        area = etree.SubElement(
            page,
            _tag("div"),
            {"class": "ocr_carea", "id": f"block_{n}_{r}", "title": _bbox(region.bbox)},
        )
        paragraph = etree.SubElement(
            area, _tag("p"), {"class": "ocr_par", "id": f"par_{n}_{r}", "title": _bbox(region.bbox)}
        )
        if language:
            paragraph.set("lang", language)
        for line_number, line in enumerate(region.lines, start=1):
            line_element = etree.SubElement(
                paragraph,
                _tag("span"),
                {
                    "class": "ocr_line",
                    "id": f"line_{n}_{r}_{line_number}",
                    "title": _bbox(line.bbox) + angle,
                },
            )
            line_element.text = ""  # its words on one line, as a line of text reads
            previous: etree._Element | None = None
            for w, word in enumerate(line.words, start=1):
                if previous is not None:  # a space between words, but between two CJK ones
                    spaced = not (unspaced((previous.text or " ")[-1]) and unspaced(word.text[0]))
                    previous.tail = " " if spaced else ""
                previous = etree.SubElement(
                    line_element,
                    _tag("span"),
                    {
                        "class": "ocrx_word",
                        "id": f"word_{n}_{r}_{line_number}_{w}",
                        "title": f"{_bbox(word.bbox)}; x_wconf {round(100 * word.confidence)}",
                    },
                )
                previous.text = word.text
    return page


@attrs.frozen
class HocrExporter:
    format: str = "hocr"
    media_type: str = "application/xhtml+xml"
    extension: str = "hocr"
    words: bool = True
    """It places words: the job it is given has its blocks' words (``?detail=words``)."""

    def export(self, source: ExportSource) -> bytes:
        return b"".join(self.stream(source))

    def stream(self, source: ExportSource) -> Iterator[bytes]:
        job = source.job
        facts = document_facts(job, source.pages)  # for the head: a pass of its own
        languages = facts.languages
        sink = ChunkSink()
        with etree.xmlfile(sink, encoding="UTF-8") as xf:
            xf.write_declaration()
            xf.write_doctype(DOCTYPE)
            root = {"lang": languages[0]} if languages else {}
            with xf.element(_tag("html"), root, nsmap={None: NAMESPACE}):
                xf.write("\n")
                xf.write(_head(job, facts), pretty_print=True)
                with xf.element(_tag("body")):
                    xf.write("\n")
                    for layout in layouts(job, source.pages):
                        xf.write(_page(layout), pretty_print=True)
                        xf.flush()
                        yield sink.take()
                xf.write("\n")
        yield sink.take()


EXPORTER = HocrExporter()
