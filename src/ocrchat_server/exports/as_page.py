"""``page``: PAGE-XML 2019 (PRImA's ``pagecontent/2019-07-15``), one file per page, in a ZIP.

A PAGE document holds one page, so the download is a ZIP of them, named after the
page images they describe (``scan.xml`` for a one-page image, else
``<stem>-<page number>.xml``; see :mod:`.layout`), in page order: what Transkribus
and eScriptorium import. Each has ``Metadata`` (ocrchat-server and its version, when
the job was submitted and finished, the engine that read the page with its version,
the job's settings) and a ``Page`` with ``imageFilename``, ``imageWidth`` and
``imageHeight`` (the image as uploaded: coordinates are in it), ``orientation`` (the
degrees clockwise the server turned the image to read it, -90 for 270, as PAGE
counts), ``primaryLanguage`` and ``secondaryLanguage`` (the languages found, where
PAGE names them) and ``conf``. A ``ReadingOrder`` lists the regions in order; each
``TextRegion`` (its ``type`` from its label, the label itself in ``custom`` as
Transkribus writes it) has its lines (``TextLine``), each with its words (``Word``);
regions, lines and words all have ``Coords`` (their box as four points) and
``TextEquiv`` (``conf`` and ``Unicode``): a line's text is its words', a region's its
lines' joined by newlines.

Each page's document is built and compressed on its own, from pages read a page at a
time (:class:`~ocrchat_server.exports.base.StoredPages`), and the ZIP streams (``zipfile``
on a write-only sink): a long job's file, and its pages, are never held whole.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs
import pycountry
from lxml import etree

from ocrchat_server.exports.base import ExportSource
from ocrchat_server.exports.layout import (
    SOFTWARE,
    SOFTWARE_VERSION,
    ChunkSink,
    PageLayout,
    engine_description,
    job_settings,
    layouts,
    number,
    xml_text,
)

if TYPE_CHECKING:
    from ocrchat.models import BBox, Job

NAMESPACE = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
SCHEMA = f"{NAMESPACE}/pagecontent.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

_LANGUAGES = (
    "Abkhaz|Afar|Afrikaans|Akan|Albanian|Amharic|Arabic|Aragonese|Armenian|Assamese|"
    "Avaric|Avestan|Aymara|Azerbaijani|Bambara|Bashkir|Basque|Belarusian|Bengali|Bihari|"
    "Bislama|Bosnian|Breton|Bulgarian|Burmese|Cambodian|Cantonese|Catalan|Chamorro|"
    "Chechen|Chichewa|Chinese|Chuvash|Cornish|Corsican|Cree|Croatian|Czech|Danish|Divehi|"
    "Dutch|Dzongkha|English|Esperanto|Estonian|Ewe|Faroese|Fijian|Finnish|French|Fula|"
    "Gaelic|Galician|Ganda|Georgian|German|Greek|Guaraní|Gujarati|Haitian|Hausa|Hebrew|"
    "Herero|Hindi|Hiri Motu|Hungarian|Icelandic|Ido|Igbo|Indonesian|Interlingua|"
    "Interlingue|Inuktitut|Inupiaq|Irish|Italian|Japanese|Javanese|Kalaallisut|Kannada|"
    "Kanuri|Kashmiri|Kazakh|Khmer|Kikuyu|Kinyarwanda|Kirundi|Komi|Kongo|Korean|Kurdish|"
    "Kwanyama|Kyrgyz|Lao|Latin|Latvian|Limburgish|Lingala|Lithuanian|Luba-Katanga|"
    "Luxembourgish|Macedonian|Malagasy|Malay|Malayalam|Maltese|Manx|Māori|Marathi|"
    "Marshallese|Mongolian|Nauru|Navajo|Ndonga|Nepali|North Ndebele|Northern Sami|"
    "Norwegian|Norwegian Bokmål|Norwegian Nynorsk|Nuosu|Occitan|Ojibwe|"
    "Old Church Slavonic|Oriya|Oromo|Ossetian|Pāli|Panjabi|Pashto|Persian|Polish|"
    "Portuguese|Punjabi|Quechua|Romanian|Romansh|Russian|Samoan|Sango|Sanskrit|Sardinian|"
    "Serbian|Shona|Sindhi|Sinhala|Slovak|Slovene|Somali|South Ndebele|Southern Sotho|"
    "Spanish|Sundanese|Swahili|Swati|Swedish|Tagalog|Tahitian|Tajik|Tamil|Tatar|Telugu|"
    "Thai|Tibetan|Tigrinya|Tonga|Tsonga|Tswana|Turkish|Turkmen|Twi|Uighur|Ukrainian|Urdu|"
    "Uzbek|Venda|Vietnamese|Volapük|Walloon|Welsh|Western Frisian|Wolof|Xhosa|Yiddish|"
    "Yoruba|Zhuang|Zulu|other"
)
LANGUAGE_NAMES = frozenset(_LANGUAGES.split("|"))
"""PAGE 2019's ``LanguageSimpleType``: the only values its language attributes take."""
_NAMED_OTHERWISE = {
    "ab": "Abkhaz", "cu": "Old Church Slavonic", "el": "Greek", "ff": "Fula", "gd": "Gaelic",
    "gn": "Guaraní", "ia": "Interlingua", "ii": "Nuosu", "kj": "Kwanyama", "ky": "Kyrgyz",
    "li": "Limburgish", "mi": "Māori", "ms": "Malay", "ne": "Nepali", "oc": "Occitan",
    "oj": "Ojibwe", "or": "Oriya", "pi": "Pāli", "ps": "Pashto", "rn": "Kirundi",
    "sl": "Slovene", "sw": "Swahili", "to": "Tonga",
}  # fmt: skip
"""ISO 639-1 codes whose name in PAGE is not ISO 639's (pycountry's)."""
_REGION_TYPES = {
    "text": "paragraph",
    "list": "paragraph",
    "handwriting": "paragraph",
    "heading": "heading",
    "title": "heading",
    "section_header": "heading",
    "caption": "caption",
    "page_header": "header",
    "page_footer": "footer",
    "page_number": "page-number",
    "footnote": "footnote",
    "table_of_contents": "TOC-entry",
}
"""Our labels (the vlm tier's layout labels, the cpu tier's running headers and footers)
as PAGE's ``TextRegion`` types; any other label is ``other``, no label ``paragraph``."""


def language_name(code: str) -> str | None:
    """An ISO 639 code as PAGE names the language (``de``: ``German``); None where PAGE
    has no name for it."""
    name = _NAMED_OTHERWISE.get(code)
    if name is None:
        language = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
        language = language or pycountry.languages.get(alpha_3=code)
        name = language.name if language is not None else None
    return name if name in LANGUAGE_NAMES else None


def region_type(label: str | None) -> str:
    if label is None:
        return "paragraph"
    return _REGION_TYPES.get(label.lower().replace("-", "_"), "other")


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _child(
    parent: etree._Element, tag: str, text: str | None = None, /, **attrib: str
) -> etree._Element:
    element = etree.SubElement(parent, _tag(tag), attrib)
    if text is not None:
        element.text = xml_text(text)
    return element


def _coords(parent: etree._Element, bbox: BBox) -> None:
    x0, y0, x1, y1 = bbox
    _child(parent, "Coords", points=f"{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}")


def _text_equiv(parent: etree._Element, text: str, confidence: float) -> None:
    equiv = _child(parent, "TextEquiv", conf=number(confidence))
    _child(equiv, "Unicode", text)


def _orientation(rotation: int) -> str:
    """PAGE's range is -179.999 to 180: 270 clockwise is 90 counterclockwise."""
    return str(rotation - 360 if rotation > 180 else rotation)


def _time(when: dt.datetime | None) -> str:
    return (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat()


def page_document(job: Job, layout: PageLayout) -> bytes:
    """The PAGE-XML document of one page."""
    n = layout.number
    root = etree.Element(
        _tag("PcGts"),
        {f"{{{_XSI}}}schemaLocation": f"{NAMESPACE} {SCHEMA}", "pcGtsId": f"page_{n}"},
        nsmap={None: NAMESPACE, "xsi": _XSI},
    )
    metadata = _child(root, "Metadata")
    _child(metadata, "Creator", f"{SOFTWARE} {SOFTWARE_VERSION}")
    _child(metadata, "Created", _time(job.created_at))
    _child(metadata, "LastChange", _time(job.finished_at or job.created_at))
    _child(
        metadata,
        "Comments",
        f"Page {n} of {job.filename or job.uuid} (job {job.uuid}); {job_settings(job)}",
    )
    if layout.engine:
        engines = "; ".join(engine_description(part) for part in layout.engine.split("+"))
        _child(metadata, "MetadataItem", type="processingStep", name="ocr", value=engines)
    page = _child(
        root,
        "Page",
        imageFilename=layout.image,
        imageWidth=str(layout.width),
        imageHeight=str(layout.height),
    )
    if layout.rotation:
        page.set("orientation", _orientation(layout.rotation))
    names = [name for name in map(language_name, layout.languages) if name]
    for attribute, name in zip(("primaryLanguage", "secondaryLanguage"), names, strict=False):
        page.set(attribute, name)
    if layout.confidence is not None:
        page.set("conf", number(layout.confidence))
    ids = [f"r{n}_{r}" for r in range(1, len(layout.regions) + 1)]
    if ids:
        order = _child(_child(page, "ReadingOrder"), "OrderedGroup", id=f"ro{n}")
        order.set("caption", "Regions reading order")
        for index, identity in enumerate(ids):
            _child(order, "RegionRefIndexed", index=str(index), regionRef=identity)
    for identity, region in zip(ids, layout.regions, strict=True):
        element = _child(page, "TextRegion", id=identity, type=region_type(region.label))
        if region.label:
            element.set("custom", f"structure {{type:{xml_text(region.label)};}}")
        if layout.rotation:
            element.set("orientation", _orientation(layout.rotation))
        if names:
            element.set("primaryLanguage", names[0])
        _coords(element, region.bbox)
        for line_number, line in enumerate(region.lines, start=1):
            line_element = _child(element, "TextLine", id=f"{identity}_l{line_number}")
            _coords(line_element, line.bbox)
            for w, word in enumerate(line.words, start=1):
                word_element = _child(line_element, "Word", id=f"{identity}_l{line_number}_w{w}")
                _coords(word_element, word.bbox)
                _text_equiv(word_element, word.text, word.confidence)
            _text_equiv(line_element, line.text, line.confidence)
        _text_equiv(element, region.text, region.confidence)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def page_file_name(layout: PageLayout) -> str:
    """The document's name in the ZIP: its image's, as ``.xml`` (in no folder: a name
    stored before uploads' names were cleaned may hold slashes)."""
    stem = layout.image.rsplit(".", 1)[0] if "." in layout.image[1:] else layout.image
    return stem.replace("/", "_").replace("\\", "_") + ".xml"


@attrs.frozen
class PageXmlExporter:
    format: str = "page"
    media_type: str = "application/zip"
    extension: str = "page.zip"
    words: bool = True
    """It places words: the job it is given has its blocks' words (``?detail=words``)."""

    def export(self, source: ExportSource) -> bytes:
        return b"".join(self.stream(source))

    def stream(self, source: ExportSource) -> Iterator[bytes]:
        job = source.job
        when = (job.finished_at or job.created_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
        stamp = max(stamp, (1980, 1, 1, 0, 0, 0))  # the earliest a ZIP can say
        sink = ChunkSink()
        names: set[str] = set()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for layout in layouts(job, source.pages):
                name = page_file_name(layout)
                if name in names:  # two pages of one image name: never with our names
                    name = f"{name[:-4]}-{layout.number}.xml"
                names.add(name)
                entry = zipfile.ZipInfo(name, date_time=stamp)
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, page_document(job, layout))
                yield sink.take()
        yield sink.take()


EXPORTER = PageXmlExporter()
