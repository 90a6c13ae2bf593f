"""The archives' formats, hOCR, ALTO and PAGE-XML, of real scans: valid by the official
schemas (ALTO 4.4, PAGE 2019, in ``tests/data/xsd``) and by hOCR's validator
(hocr-spec), and read back with lxml's XPath to the job's own text and boxes, and to the
words ``pdftotext -bbox`` finds in the job's searchable PDF."""

from __future__ import annotations

import functools
import io
import re
import subprocess
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hocr_spec import HocrValidator
from lxml import etree
from PIL import Image

from ocrchat import __version__
from ocrchat._cli import main as ocrchat_main
from ocrchat._serde import structure
from ocrchat.models import BBox, Block, Job, Page
from ocrchat_server.engines.words import join_words
from ocrchat_server.exports import EXPORTERS, ExportSource
from ocrchat_server.exports.as_page import LANGUAGE_NAMES, language_name
from ocrchat_server.exports.base import StreamingExporter, file_extension
from ocrchat_server.settings import Settings
from tests.conftest import Live, MovableClock, Server, started
from tests.documents import TEST_DATA, image_bytes, render_page
from tests.test_api import API

SCAN = TEST_DATA / "en_ehri_typed_dr19390519_03.jpg"
XSD = TEST_DATA / "xsd"
ALTO = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
PAGE = {"p": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
XHTML = {"h": "http://www.w3.org/1999/xhtml"}
TOLERANCE = 2
"""Pixels between a word's box in ALTO and the same word's glyphs in the searchable PDF.
The text layer sets each word at its box's left edge, stretched to its box's width, in
PDF points written with two decimals (0.01 pt is 0.04 px at 300 dpi), and fpdf2 writes
the stretch as a percentage with two decimals; ``pdftotext`` then adds the glyphs'
advances. Together that is well under a pixel; 2 px (0.17 mm at 300 dpi) leaves room for
rounding back to whole pixels and is still far less than a letter, so a word cannot
match its neighbour."""


# ---------------------------------------------------------------------------- schemas


class _LocalSchemas(etree.Resolver):
    """Every schema a schema imports, from the tests' data, never from the network (ALTO
    imports the Library of Congress's xlink.xsd by its URL)."""

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        local = XSD / (system_url or "").rsplit("/", 1)[-1]
        return self.resolve_filename(str(local), context) if local.is_file() else None


@functools.cache
def schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.parse(str(XSD / name), parser))


def valid(schema_name: str, document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    validator = schema(schema_name)
    assert validator.validate(root), validator.error_log
    return root


def valid_alto(document: bytes) -> etree._Element:
    return valid("alto-4-4.xsd", document)


def valid_page(document: bytes) -> etree._Element:
    return valid("pagecontent-2019-07-15.xsd", document)


def exported(fmt: str, source: ExportSource) -> bytes:
    """The file an exporter makes, without the server (for jobs made here)."""
    data = EXPORTERS[fmt].export(source)
    assert isinstance(data, bytes)
    return data


def assert_valid_hocr(document: bytes) -> None:
    report = HocrValidator("standard").validate(
        io.BytesIO(document), parse_strict=True, filename="job.hocr"
    )
    errors = [str(item) for item in report.items if item.level in ("ERROR", "FATAL")]
    assert report.is_valid(), errors


# ---------------------------------------------------------------------------- jobs


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module: the scans are read once."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("archive") / "data",
        workers=2,
        max_upload_bytes=16 * 1024 * 1024,
    )
    with started(settings, MovableClock()) as server:
        yield server


@attrs.frozen
class Done:
    """A done job: its id, the job as ``?detail=words`` gives it, and the server."""

    uuid: str
    job: Job
    server: Server

    def download(self, fmt: str) -> bytes:
        response = self.server.client.get(
            f"{API}{self.uuid}/download/", params={"format": fmt}, headers=self.server.headers()
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == EXPORTERS[fmt].media_type
        content: bytes = response.content
        return content

    @property
    def pages(self) -> list[Page]:
        return self.job.pages or []


def _read(server: Server, content: bytes, name: str) -> Done:
    response = server.client.post(
        API,
        headers=server.headers(),
        files={"file": (name, content)},
        data={"language": "auto"},
    )
    assert response.status_code == 200, response.text
    uuid = response.json()["uuid"]
    job = server.client.get(f"{API}{uuid}/", params={"detail": "words"}, headers=server.headers())
    done = Done(uuid=uuid, job=structure(job.json(), Job), server=server)
    assert done.job.status == "done", done.job.error
    return done


@pytest.fixture(scope="module")
def scan_job(archive_server: Server) -> Done:
    """A typed letter, one JPEG page."""
    return _read(archive_server, SCAN.read_bytes(), "letter 1939.jpg")


@pytest.fixture(scope="module")
def two_page_job(archive_server: Server) -> Done:
    """The letter twice in one TIFF, the second time lying on its side: the server turns
    it upright to read it, and the archives' formats must turn its boxes back."""
    upright = Image.open(SCAN).convert("L")
    frames = io.BytesIO()
    upright.save(
        frames,
        format="TIFF",
        save_all=True,
        append_images=[upright.rotate(90, expand=True)],  # counterclockwise
        compression="tiff_deflate",
        dpi=(300, 300),
    )
    done = _read(archive_server, frames.getvalue(), "letter.tiff")
    assert [page.rotation for page in done.pages] == [None, 90]
    return done


# ---------------------------------------------------------------------------- reading back


@attrs.frozen
class Line:
    text: str
    bbox: BBox
    words: list[tuple[str, BBox, float]]


def expected_lines(page: Page) -> list[Line]:
    """The page's lines as the job JSON has them, boxes in the image as uploaded."""
    return [
        Line(
            text=block.text,
            bbox=page.to_original(block.bbox),
            words=[
                (word.text, page.to_original(word.bbox), round(word.confidence, 4))
                for word in block.words or []
            ],
        )
        for block in page.blocks
        if block.text.strip()
    ]


def region_sizes(page: Page) -> list[int]:
    """How many lines each run of blocks of one region has, in order."""
    sizes: list[int] = []
    previous: object = object()
    for block in page.blocks:
        if block.region != previous or not sizes:
            sizes.append(0)
        sizes[-1] += 1
        previous = block.region
    return sizes


def _alto_box(element: etree._Element) -> BBox:
    x, y, w, h = (
        round(float(element.get(name, "0"))) for name in ("HPOS", "VPOS", "WIDTH", "HEIGHT")
    )
    return (x, y, x + w, y + h)


def alto_lines(page: etree._Element) -> list[Line]:
    lines = []
    for line in page.iterfind(".//a:TextLine", ALTO):
        words = [
            (s.get("CONTENT", ""), _alto_box(s), float(s.get("WC", "nan")))
            for s in line.iterfind("a:String", ALTO)
        ]
        lines.append(Line(join_words(w[0] for w in words), _alto_box(line), words))
    return lines


def _points_box(element: etree._Element) -> BBox:
    points = element.find("p:Coords", PAGE)
    assert points is not None
    pairs = [tuple(map(int, point.split(","))) for point in points.get("points", "").split()]
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    return (min(xs), min(ys), max(xs), max(ys))


def _unicode(element: etree._Element) -> tuple[str, float]:
    equiv = element.find("p:TextEquiv", PAGE)
    assert equiv is not None
    conf = float(equiv.get("conf", "nan"))
    assert 0 <= conf <= 1
    return equiv.findtext("p:Unicode", None, PAGE) or "", conf


def page_lines(root: etree._Element) -> list[Line]:
    lines = []
    for line in root.iterfind(".//p:TextLine", PAGE):
        words = [
            (_unicode(word)[0], _points_box(word), _unicode(word)[1])
            for word in line.iterfind("p:Word", PAGE)
        ]
        text, _ = _unicode(line)
        assert text == join_words(word[0] for word in words)
        lines.append(Line(text, _points_box(line), words))
    return lines


def _title_box(element: etree._Element) -> BBox:
    found = re.search(r"bbox (\d+) (\d+) (\d+) (\d+)", element.get("title", ""))
    assert found, element.get("title")
    x0, y0, x1, y1 = map(int, found.groups())
    return (x0, y0, x1, y1)


def _inside(box: BBox, outer: BBox) -> bool:
    return outer[0] <= box[0] <= box[2] <= outer[2] and outer[1] <= box[1] <= box[3] <= outer[3]


def assert_same_lines(found: list[Line], page: Page) -> None:
    """The text and boxes of every line and word are the job's (words where the job has
    them: a job stored before words has none to compare)."""
    expected = expected_lines(page)
    assert [(line.text, line.bbox) for line in found] == [
        (line.text, line.bbox) for line in expected
    ]
    for line, wanted in zip(found, expected, strict=True):
        assert line.words, line
        assert all(_inside(word[1], line.bbox) for word in line.words), line
        if wanted.words:
            assert [(t, b) for t, b, _ in line.words] == [(t, b) for t, b, _ in wanted.words]
            assert [c for *_, c in line.words] == pytest.approx([c for *_, c in wanted.words])


# ---------------------------------------------------------------------------- ALTO


def test_alto_is_valid_alto_4_and_reads_back_as_the_job(two_page_job: Done) -> None:
    root = valid_alto(two_page_job.download("alto"))
    assert root.findtext("a:Description/a:MeasurementUnit", None, ALTO) == "pixel"
    assert root.findtext(".//a:sourceImageInformation/a:fileName", None, ALTO) == "letter.tiff"
    software = root.find(".//a:Processing/a:processingSoftware", ALTO)
    assert software is not None
    assert software.findtext("a:softwareName", None, ALTO) == "ocrchat-server"
    assert software.findtext("a:softwareVersion", None, ALTO) == __version__
    engines = software.findtext("a:applicationDescription", "", ALTO)
    assert re.match(r"PP-OCRv6 \(rapidocr \d|Tesseract \d", engines), engines

    pages = root.findall(".//a:Page", ALTO)
    assert len(pages) == len(two_page_job.pages) == 2
    for element, page in zip(pages, two_page_job.pages, strict=True):
        assert element.get("PHYSICAL_IMG_NR") == str(page.index + 1)
        assert page.original_size is not None
        assert (element.get("WIDTH"), element.get("HEIGHT")) == tuple(map(str, page.original_size))
        assert element.get("ROTATION") == (str(page.rotation) if page.rotation else None)
        assert page.detected_languages
        assert element.get("LANG") == page.detected_languages[0]
        processing = root.find(f".//a:Processing[@ID='{element.get('PROCESSING')}']", ALTO)
        assert processing is not None
        assert_same_lines(alto_lines(element), page)
        # lines nest in their regions (the page's paragraphs)
        blocks = element.findall(".//a:TextBlock", ALTO)
        assert [len(block.findall("a:TextLine", ALTO)) for block in blocks] == region_sizes(page)
        for block in blocks:
            for line in block.iterfind("a:TextLine", ALTO):
                assert _inside(_alto_box(line), _alto_box(block))
    # the page read turned: its lines run down the image as uploaded
    turned = alto_lines(pages[1])
    assert all(line.bbox[3] - line.bbox[1] > line.bbox[2] - line.bbox[0] for line in turned[1:])


def pdf_words(pdf: Path, pages: list[Page]) -> list[list[tuple[str, BBox]]]:
    """``pdftotext -bbox``'s words on each page, in the pixels of the page image as
    uploaded (the PDF's pages are the images read, upright)."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True
    ).stdout
    found = []
    root = etree.fromstring(html)
    for element, page in zip(root.iterfind(".//h:page", XHTML), pages, strict=True):
        assert page.width is not None
        scale = page.width / float(element.get("width", "0"))
        words = []
        for word in element.iterfind("h:word", XHTML):
            x0, y0, x1, y1 = (
                float(word.get(k, "0")) * scale for k in ("xMin", "yMin", "xMax", "yMax")
            )
            box = (round(x0), round(y0), round(x1), round(y1))
            words.append((word.text or "", page.to_original(box)))
        found.append(words)
    return found


def test_alto_words_lie_in_their_lines_and_are_the_searchable_pdfs_words(
    two_page_job: Done, tmp_path: Path
) -> None:
    """Every ``String`` lies inside its ``TextLine``, the words joined are the line's text,
    and each is a word of the searchable PDF's text layer at the same place: along the
    line its two ends within ``TOLERANCE``; across it, the text layer's glyphs are as tall
    as the line (see searchable_pdf), so they span the line's box and hold the word's."""
    root = valid_alto(two_page_job.download("alto"))
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(two_page_job.download("pdf"))
    layer = pdf_words(pdf, two_page_job.pages)
    for element, page, pdf_page in zip(
        root.iterfind(".//a:Page", ALTO), two_page_job.pages, layer, strict=True
    ):
        along = 1 if page.rotation in (90, 270) else 0  # the axis the lines run along
        across = 1 - along
        unmatched = list(pdf_page)
        lines = alto_lines(element)
        assert lines
        for line, block in zip(lines, [b for b in page.blocks if b.text.strip()], strict=True):
            assert line.text == block.text
            for text, box, _ in line.words:
                assert _inside(box, line.bbox)
                same = [w for w in unmatched if w[0] == text]
                assert same, f"{text!r} is not in the text layer"
                match = min(same, key=lambda w: abs(w[1][0] - box[0]) + abs(w[1][1] - box[1]))
                unmatched.remove(match)
                glyphs = match[1]
                for edge in (along, along + 2):
                    assert abs(glyphs[edge] - box[edge]) <= TOLERANCE, (text, glyphs, box)
                for edge in (across, across + 2):
                    assert abs(glyphs[edge] - line.bbox[edge]) <= TOLERANCE, (text, glyphs, line)
        assert unmatched == []  # and the text layer has no word the ALTO file lacks


# ---------------------------------------------------------------------------- PAGE


def test_page_xml_is_valid_page_2019_and_reads_back_as_the_job(two_page_job: Done) -> None:
    with zipfile.ZipFile(io.BytesIO(two_page_job.download("page"))) as archive:
        assert archive.namelist() == ["letter-1.xml", "letter-2.xml"]
        documents = [valid_page(archive.read(name)) for name in archive.namelist()]
    for root, page in zip(documents, two_page_job.pages, strict=True):
        assert root.findtext("p:Metadata/p:Creator", None, PAGE) == f"ocrchat-server {__version__}"
        step = root.find("p:Metadata/p:MetadataItem[@type='processingStep']", PAGE)
        assert step is not None
        assert "PP-OCRv6" in step.get("value", "") or "Tesseract" in step.get("value", "")
        element = root.find("p:Page", PAGE)
        assert element is not None
        assert element.get("imageFilename") == f"letter-{page.index + 1}.png"
        assert page.original_size is not None
        size = (element.get("imageWidth"), element.get("imageHeight"))
        assert size == tuple(map(str, page.original_size))
        assert element.get("orientation") == (str(page.rotation) if page.rotation else None)
        assert element.get("primaryLanguage") == "English"
        regions = element.findall("p:TextRegion", PAGE)
        order = element.findall("p:ReadingOrder/p:OrderedGroup/p:RegionRefIndexed", PAGE)
        assert [ref.get("regionRef") for ref in order] == [r.get("id") for r in regions]
        assert [int(ref.get("index", "-1")) for ref in order] == list(range(len(regions)))
        assert [len(r.findall("p:TextLine", PAGE)) for r in regions] == region_sizes(page)
        for region in regions:
            lines = [_unicode(line)[0] for line in region.iterfind("p:TextLine", PAGE)]
            assert _unicode(region)[0] == "\n".join(lines)
            for line in region.iterfind("p:TextLine", PAGE):
                assert _inside(_points_box(line), _points_box(region))
        assert_same_lines(page_lines(root), page)


def test_every_language_page_xml_can_name_is_named() -> None:
    """PAGE names languages from a list of its own: every ISO 639-1 code whose language
    is on it is named as the schema spells it, and nothing else is written."""
    tree = etree.parse(str(XSD / "pagecontent-2019-07-15.xsd"))
    names = tree.xpath(
        "//x:simpleType[@name='LanguageSimpleType']//x:enumeration/@value",
        namespaces={"x": "http://www.w3.org/2001/XMLSchema"},
    )
    assert set(names) == LANGUAGE_NAMES
    assert language_name("de") == "German"
    assert language_name("el") == "Greek"
    assert language_name("grc") is None  # Ancient Greek: not in PAGE's list
    for code in ("en", "fr", "ar", "zh", "ja", "ru", "hi", "sw", "mi"):
        assert language_name(code) in LANGUAGE_NAMES


# ---------------------------------------------------------------------------- hOCR


def test_hocr_passes_hocr_spec_and_nests_words_in_lines(two_page_job: Done) -> None:
    document = two_page_job.download("hocr")
    assert_valid_hocr(document)
    root = etree.fromstring(document)

    def classed(element: etree._Element, name: str) -> list[etree._Element]:
        return list(element.iterfind(f".//*[@class='{name}']"))

    metas = {
        m.get("name", ""): m.get("content", "") for m in root.iterfind(".//h:meta[@name]", XHTML)
    }
    assert metas["ocr-system"].startswith(f"ocrchat-server {__version__}")
    used = {element.get("class") for element in root.iter() if element.get("class")}
    assert used <= set(metas["ocr-capabilities"].split())
    assert metas["ocr-number-of-pages"] == "2"
    assert metas["ocr-langs"] == "en"
    pages = classed(root, "ocr_page")
    for element, page in zip(pages, two_page_job.pages, strict=True):
        assert page.original_size is not None
        title = element.get("title", "")
        assert f'image "letter-{page.index + 1}.png"' in title
        assert f"ppageno {page.index}" in title
        assert _title_box(element) == (0, 0, *page.original_size)
        assert element.get("lang") == "en"
        lines = []
        for area in classed(element, "ocr_carea"):
            for paragraph in area:
                assert paragraph.get("class") == "ocr_par"
                for span in paragraph:
                    assert span.get("class") == "ocr_line"
                    assert ("textangle 90" in span.get("title", "")) == (page.rotation == 90)
                    words = []
                    for word in span:
                        assert word.get("class") == "ocrx_word"
                        wconf = re.search(r"x_wconf (\d+)", word.get("title", ""))
                        assert wconf
                        assert 0 <= int(wconf.group(1)) <= 100
                        words.append((word.text or "", _title_box(word), 0.0))
                    lines.append(Line("".join(span.itertext()), _title_box(span), words))
        assert [(line.text, line.bbox) for line in lines] == [
            (line.text, line.bbox) for line in expected_lines(page)
        ]
        for line, wanted in zip(lines, expected_lines(page), strict=True):
            assert all(_inside(box, line.bbox) for _, box, _ in line.words)
            if wanted.words:
                assert [(t, b) for t, b, _ in line.words] == [(t, b) for t, b, _ in wanted.words]


# ---------------------------------------------------------------------------- stored jobs


def _without_words_or_regions(page: Page) -> Page:
    """The page as a server before words and regions stored it."""
    return attrs.evolve(
        page,
        regions=[],
        blocks=[attrs.evolve(block, words=None, region=None) for block in page.blocks],
    )


def test_a_job_stored_without_words_or_regions_exports_estimated_words(scan_job: Done) -> None:
    """Each page is one region; each line's words are laid out across its box by their
    characters, so they still lie inside it and give its text; the files stay valid. A
    vlm-tier block of several lines becomes that many lines, one band of its box each."""
    page = _without_words_or_regions(scan_job.pages[0])
    paragraph = Block(
        text="A layout block\nof two lines",
        bbox=(100, 2000, 700, 2100),
        confidence=0.5,
        label="heading",
    )
    page = attrs.evolve(page, blocks=[*page.blocks, paragraph])
    job = attrs.evolve(scan_job.job, pages=[page])
    source = ExportSource(job=job, searchable_pdf=Path("unused.pdf"))

    root = valid_alto(exported("alto", source))
    assert len(root.findall(".//a:TextBlock", ALTO)) == 1
    lines = alto_lines(root)
    texts = [b.text for b in scan_job.pages[0].blocks if b.text.strip()]
    assert [line.text for line in lines] == [*texts, "A layout block", "of two lines"]
    assert lines[-2].bbox == (100, 2000, 700, 2050)
    assert lines[-1].bbox == (100, 2050, 700, 2100)
    for line in lines:
        assert all(_inside(box, line.bbox) for _, box, _ in line.words)
        assert line.words[0][1][0] == line.bbox[0]  # from the line's left edge ...
        assert line.words[-1][1][2] == line.bbox[2]  # ... to its right one
    (tag,) = root.iterfind(".//a:Tags/a:LayoutTag", ALTO)
    assert tag.get("LABEL") == "heading"
    tagged = root.findall(f".//a:TextLine[@TAGREFS='{tag.get('ID')}']", ALTO)
    assert [_alto_box(line) for line in tagged] == [lines[-2].bbox, lines[-1].bbox]
    with zipfile.ZipFile(io.BytesIO(exported("page", source))) as archive:
        (name,) = archive.namelist()
        assert name == "letter 1939.xml"
        pages = valid_page(archive.read(name))
    assert pages.find("p:Page", PAGE).get("imageFilename") == "letter 1939.jpg"  # type: ignore[union-attr]
    assert_valid_hocr(exported("hocr", source))


# ---------------------------------------------------------------------------- streaming


def long_job(done: Done, pages: int) -> ExportSource:
    page = done.pages[0]
    job = attrs.evolve(
        done.job,
        page_count=pages,
        pages=[attrs.evolve(page, index=i) for i in range(pages)],
    )
    return ExportSource(job=job, searchable_pdf=Path("unused.pdf"))


def streamed(fmt: str, source: ExportSource) -> tuple[int, int, int]:
    """The size of the file, its number of chunks, and the most memory allocated at once
    while it was made (Python's own allocations, lxml's and zlib's through it)."""
    exporter = EXPORTERS[fmt]
    assert isinstance(exporter, StreamingExporter)
    tracemalloc.start()
    try:
        size = chunks = 0
        for chunk in exporter.stream(source):
            size += len(chunk)
            chunks += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return size, chunks, peak


@pytest.mark.parametrize("fmt", ["hocr", "alto", "page"])
def test_a_long_job_streams_page_by_page_in_flat_memory(scan_job: Done, fmt: str) -> None:
    """A 100-page job's file comes a page at a time, and making it takes no more memory
    than a 25-page job's: the pages' text is the job's own, already in memory, and one
    page's document is all the exporter adds."""
    few = long_job(scan_job, 3)
    exporter = EXPORTERS[fmt]
    assert isinstance(exporter, StreamingExporter)
    assert b"".join(exporter.stream(few)) == exported(fmt, few)  # also warms caches
    _, _, peak_25 = streamed(fmt, long_job(scan_job, 25))
    size, chunks, peak_100 = streamed(fmt, long_job(scan_job, 100))
    assert chunks > 100
    assert peak_100 < 1.25 * peak_25 + 64 * 1024, (peak_25, peak_100)
    if fmt != "page":  # the ZIP is compressed: its size is no measure of one page's
        assert peak_100 < size / 10, (peak_100, size)


# ---------------------------------------------------------------------------- HTTP and CLI


def test_the_downloads_say_what_they_are(scan_job: Done) -> None:
    expected = {
        "hocr": ("application/xhtml+xml", "hocr"),
        "alto": ("application/xml", "alto.xml"),
        "page": ("application/zip", "page.zip"),
    }
    for fmt, (media_type, extension) in expected.items():
        assert EXPORTERS[fmt].media_type == media_type
        assert file_extension(EXPORTERS[fmt]) == extension
        assert scan_job.download(fmt)  # and the route serves it
        response = scan_job.server.client.get(
            f"{API}{scan_job.uuid}/download/",
            params={"format": fmt},
            headers=scan_job.server.headers(),
        )
        # named as the file it is: a PAGE download is a ZIP, not a ".page"
        stem = (scan_job.job.filename or "").rsplit(".", 1)[0]
        disposition = response.headers["content-disposition"]
        assert f'filename="{stem}.{extension}"' in disposition, disposition


def test_the_command_downloads_alto(live: Live, tmp_path: Path) -> None:
    page = tmp_path / "note.png"
    page.write_bytes(image_bytes(render_page([["The archive keeps every word"]]), "PNG"))
    out = tmp_path / "note.alto.xml"
    env = {"OCRCHAT_BASE_URL": live.url, "OCRCHAT_API_TOKEN": live.alice}
    result = CliRunner().invoke(
        ocrchat_main,
        ["submit", str(page), "--language", "eng", "--format", "alto", "-o", str(out)],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    root = valid_alto(out.read_bytes())
    assert [line.text for line in alto_lines(root)] == ["The archive keeps every word"]
