"""``alto``: ALTO 4.4 XML (the Library of Congress's), one ``Page`` per page read.

Measurements are pixels of the page image as uploaded (see :mod:`.layout` for the
image each page names and how boxes are laid out). ``Description`` has the unit,
the upload's name and the job's id, and one ``Processing`` per engine (or pair of
engines) that read pages, naming ocrchat-server and its version, the engine and its
version (Tesseract's, where it read) and the job's settings; each ``Page`` points at
its own. A ``Page`` has ``WIDTH``, ``HEIGHT``, ``PHYSICAL_IMG_NR`` (its 1-based place
in the file), ``PC`` (the mean confidence of its lines) and ``ACCURACY`` (the same in
percent), ``LANG`` and ``OTHERLANGS`` (the languages found), and ``ROTATION``: the
degrees counterclockwise the text lies turned in the image, as the server found it
(``TextBlock`` repeats it for readers of ALTO before 4.4). Its ``PrintSpace`` is the
whole image; in it, a ``TextBlock`` per region, a ``TextLine`` per line, a ``String``
per word (``CONTENT``, its box, ``WC``: its confidence, 0 to 1) and an ``SP`` for the
space between two words. Labels (``page_header``, ``heading``, ...) become layout tags
(``LayoutTag``), which blocks and lines point at with ``TAGREFS``.

The document is written a page at a time (lxml's incremental writer), from pages read
a page at a time (:class:`~ocrchat_server.exports.base.StoredPages`): a long job's file,
and its pages, are never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
from lxml import etree

from ocrchat_server.exports.base import ExportSource
from ocrchat_server.exports.layout import (
    CREATOR,
    SOFTWARE,
    SOFTWARE_VERSION,
    ChunkSink,
    LineBox,
    PageLayout,
    RegionBox,
    document_facts,
    engine_description,
    job_settings,
    layouts,
    number,
    xml_text,
)

if TYPE_CHECKING:
    from ocrchat.models import BBox, Job

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XLINK = "http://www.w3.org/1999/xlink"


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _box(bbox: BBox) -> dict[str, str]:
    x0, y0, x1, y1 = bbox
    return {"HPOS": str(x0), "VPOS": str(y0), "WIDTH": str(x1 - x0), "HEIGHT": str(y1 - y0)}


def _child(parent: etree._Element, name: str, text: str) -> etree._Element:
    element = etree.SubElement(parent, _tag(name))
    element.text = xml_text(text)
    return element


def _processing_keys(engines: list[str]) -> dict[str, str]:
    """An ID for each engine (or ``+``-joined pair) that read pages, in order of use."""
    return {key: f"processing_{n}" for n, key in enumerate(engines, start=1)}


def _labels(labels: list[str]) -> dict[str, str]:
    """A tag ID for each label of the document's regions and blocks."""
    return {label: f"tag_{n}" for n, label in enumerate(labels, start=1)}


def _description(job: Job, processing: dict[str, str]) -> etree._Element:
    description = etree.Element(_tag("Description"), nsmap={None: NAMESPACE})
    _child(description, "MeasurementUnit", "pixel")
    source = etree.SubElement(description, _tag("sourceImageInformation"))
    _child(source, "fileName", job.filename or job.uuid)
    identifier = _child(source, "documentIdentifier", job.uuid)
    identifier.set("documentIdentifierLocation", SOFTWARE)
    for engine, identity in processing.items():
        step = etree.SubElement(description, _tag("Processing"), ID=identity)
        _child(step, "processingCategory", "contentGeneration")
        when = job.finished_at or job.created_at
        if when is not None:
            _child(step, "processingDateTime", when.isoformat())
        engines = [engine_description(part) for part in engine.split("+") if part]
        _child(step, "processingStepDescription", f"OCR by {', '.join(engines) or SOFTWARE}")
        _child(step, "processingStepSettings", job_settings(job))
        software = etree.SubElement(step, _tag("processingSoftware"))
        _child(software, "softwareCreator", CREATOR)
        _child(software, "softwareName", SOFTWARE)
        _child(software, "softwareVersion", SOFTWARE_VERSION)
        if engines:
            _child(software, "applicationDescription", "; ".join(engines))
    return description


def _tags(labels: dict[str, str]) -> etree._Element:
    tags = etree.Element(_tag("Tags"), nsmap={None: NAMESPACE})
    for label, identity in labels.items():
        etree.SubElement(tags, _tag("LayoutTag"), ID=identity, LABEL=xml_text(label))
    return tags


def _page(layout: PageLayout, processing: str, labels: dict[str, str]) -> etree._Element:
    prefix = f"p{layout.number}"
    page = etree.Element(
        _tag("Page"),
        nsmap={None: NAMESPACE},
        ID=f"page_{layout.number}",
        PHYSICAL_IMG_NR=str(layout.number),
        WIDTH=str(layout.width),
        HEIGHT=str(layout.height),
        PROCESSING=processing,
    )
    if layout.confidence is not None:
        page.set("PC", number(layout.confidence))
        page.set("ACCURACY", number(100 * layout.confidence))
    if layout.rotation:
        page.set("ROTATION", str(layout.rotation))
    if layout.languages:
        page.set("LANG", layout.languages[0])
        if len(layout.languages) > 1:
            page.set("OTHERLANGS", " ".join(layout.languages[1:]))
    space = etree.SubElement(page, _tag("PrintSpace"), _box((0, 0, layout.width, layout.height)))
    for r, region in enumerate(layout.regions, start=1):
        _text_block(space, layout, region, f"{prefix}_b{r}", labels)
    return page


def _text_block(
    parent: etree._Element,
    layout: PageLayout,
    region: RegionBox,
    identity: str,
    labels: dict[str, str],
) -> None:
    attributes = {"ID": identity, **_box(region.bbox)}
    block = etree.SubElement(parent, _tag("TextBlock"), attributes)
    if region.label in labels:
        block.set("TAGREFS", labels[region.label])
    if layout.rotation:
        block.set("ROTATION", str(layout.rotation))
    if layout.languages:
        block.set("LANG", layout.languages[0])
    for n, line in enumerate(region.lines, start=1):
        _text_line(block, line, f"{identity}_l{n}", labels)


def _text_line(
    parent: etree._Element, line: LineBox, identity: str, labels: dict[str, str]
) -> None:
    attributes = {"ID": identity, **_box(line.bbox)}
    element = etree.SubElement(parent, _tag("TextLine"), attributes)
    if line.label in labels:
        element.set("TAGREFS", labels[line.label])
    previous: BBox | None = None
    for n, word in enumerate(line.words, start=1):
        if previous is not None:
            etree.SubElement(element, _tag("SP"), _box(_gap(previous, word.bbox)))
        string = {"ID": f"{identity}_w{n}", "CONTENT": word.text, "WC": number(word.confidence)}
        string.update(_box(word.bbox))
        etree.SubElement(element, _tag("String"), string)
        previous = word.bbox


def _gap(one: BBox, other: BBox) -> BBox:
    """The space between two neighbouring words' boxes, across or (on a page whose text lies
    turned in the image) down the image; empty where they touch or overlap."""
    left, right = sorted((one, other), key=lambda box: box[0])
    top, bottom = sorted((one, other), key=lambda box: box[1])
    x0, y0 = min(one[0], other[0]), min(one[1], other[1])
    x1, y1 = max(one[2], other[2]), max(one[3], other[3])
    if left[2] <= right[0]:
        return (left[2], y0, right[0], y1)
    if top[3] <= bottom[1]:
        return (x0, top[3], x1, bottom[1])
    return (right[0], y0, right[0], y1)


@attrs.frozen
class AltoExporter:
    format: str = "alto"
    media_type: str = "application/xml"
    extension: str = "alto.xml"
    words: bool = True
    """It places words: the job it is given has its blocks' words (``?detail=words``)."""

    def export(self, source: ExportSource) -> bytes:
        return b"".join(self.stream(source))

    def stream(self, source: ExportSource) -> Iterator[bytes]:
        job = source.job
        facts = document_facts(job, source.pages)  # for the description: a pass of its own
        processing = _processing_keys(facts.engines)
        labels = _labels(facts.labels)
        sink = ChunkSink()
        with etree.xmlfile(sink, encoding="UTF-8") as xf:
            xf.write_declaration()
            root = {
                f"{{{_XSI}}}schemaLocation": f"{NAMESPACE} {SCHEMA}",
                "SCHEMAVERSION": "4.4",
            }
            nsmap = {None: NAMESPACE, "xlink": _XLINK, "xsi": _XSI}
            with xf.element(_tag("alto"), root, nsmap=nsmap):
                xf.write("\n")
                xf.write(_description(job, processing), pretty_print=True)
                if labels:
                    xf.write(_tags(labels), pretty_print=True)
                with xf.element(_tag("Layout")):
                    xf.write("\n")
                    for layout in layouts(job, source.pages):
                        xf.write(
                            _page(layout, processing[layout.engine or ""], labels),
                            pretty_print=True,
                        )
                        xf.flush()
                        yield sink.take()
                xf.write("\n")
        yield sink.take()


EXPORTER = AltoExporter()
