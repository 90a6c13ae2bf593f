"""Every download format, reopened by the program that reads it."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from PIL import Image, ImageChops, ImageOps

from ocrchat.models import Job, JobStatus, Page, Table
from ocrchat_server.engines.cpu import CpuEngine
from ocrchat_server.engines.languages import resolve_language
from ocrchat_server.exports import EXPORTERS, ExportSource
from ocrchat_server.exports.searchable_pdf import words_record, write_page_pdf_from_words
from ocrchat_server.jobs.json_files import read_json, write_json_atomically
from tests.conftest import Server
from tests.documents import (
    CJK_FONT,
    FONT,
    TEST_DATA,
    corpus_scorer,
    image_bytes,
    numbered_pdf,
    render_page,
    scanned_pdf,
)
from tests.test_api import API, submit, wait_until_finished

REPORT = render_page(
    [
        ["The board met on the third of March."],
        ["• Receipts rose by eleven percent", "• Costs stayed close to the estimate"],
    ],
    heading="Annual Summary",
)


def download(server: Server, uuid: str, fmt: str) -> Any:
    response = server.client.get(
        f"{API}{uuid}/download/", params={"format": fmt}, headers=server.headers()
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def report_job(server: Server) -> dict[str, Any]:
    job: dict[str, Any] = submit(
        server, image_bytes(REPORT, "PNG"), "Report 2026.png", language="eng"
    ).json()
    assert job["status"] == "done"
    return job


def test_content_types_and_file_names(server: Server, report_job: dict[str, Any]) -> None:
    expected = {
        "txt": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "json": "application/json",
        "csv": "text/csv; charset=utf-8",
        "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for fmt, media_type in expected.items():
        response = download(server, report_job["uuid"], fmt)
        assert response.headers["content-type"] == media_type
        disposition = response.headers["content-disposition"]
        assert disposition.startswith(f'attachment; filename="Report 2026.{fmt}"')


def test_txt_md_and_json(server: Server, report_job: dict[str, Any]) -> None:
    uuid = report_job["uuid"]
    assert download(server, uuid, "txt").text == report_job["pages"][0]["text"] + "\n"
    markdown = download(server, uuid, "md").text
    assert markdown.startswith("# Annual Summary\n\n")
    assert "- Receipts rose by eleven percent" in markdown
    assert download(server, uuid, "json").json() == report_job


def test_docx_has_headings_paragraphs_lists_and_properties(
    server: Server, report_job: dict[str, Any]
) -> None:
    document = docx.Document(io.BytesIO(download(server, report_job["uuid"], "docx").content))
    paragraphs = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Heading 1", "Annual Summary")
    assert ("Normal", "The board met on the third of March.") in paragraphs
    assert ("List Bullet", "Receipts rose by eleven percent") in paragraphs
    assert document.core_properties.title == "Report 2026.png"
    assert document.core_properties.language == "eng"
    assert document.core_properties.identifier == report_job["uuid"]


def test_csv_and_xlsx_without_tables_list_the_blocks(
    server: Server, report_job: dict[str, Any]
) -> None:
    blocks = report_job["pages"][0]["blocks"]
    text = download(server, report_job["uuid"], "csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["page", "text", "x0", "y0", "x1", "y1", "confidence"]
    assert len(rows) == len(blocks) + 1
    assert rows[1] == [
        "1",
        blocks[0]["text"],
        *map(str, blocks[0]["bbox"]),
        str(blocks[0]["confidence"]),
    ]

    book = openpyxl.load_workbook(io.BytesIO(download(server, report_job["uuid"], "xlsx").content))
    assert book.sheetnames == ["Blocks"]
    sheet_rows = list(book["Blocks"].iter_rows(values_only=True))
    assert sheet_rows[1] == (1, blocks[0]["text"], *blocks[0]["bbox"], blocks[0]["confidence"])


def test_tables_go_to_csv_xlsx_and_docx() -> None:
    """Tables reach every tabular format (the engines that find tables are separate work)."""
    table = Table(rows=[["Item", "Price"], ["Tea", "3.50"]], bbox=(0, 0, 10, 10))
    page = Page(
        index=1,
        text="Item Price",
        tables=[table, table],
        markdown="| Item | Price |\n| --- | --- |\n| Tea | 3.50 |",
    )
    source = ExportSource(
        job=Job(uuid="u", status=JobStatus.DONE, filename="menu.png", pages=[page]),
        searchable_pdf=Path("unused.pdf"),
    )
    table_csv = EXPORTERS["csv"].export(source)
    assert isinstance(table_csv, bytes)
    rows = list(csv.reader(io.StringIO(table_csv.decode("utf-8-sig"))))
    assert rows == [
        ["page 2", "table 1"],
        ["Item", "Price"],
        ["Tea", "3.50"],
        ["page 2", "table 2"],
        ["Item", "Price"],
        ["Tea", "3.50"],
    ]
    content = EXPORTERS["xlsx"].export(source)
    assert isinstance(content, bytes)
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Page 2 table 1", "Page 2 table 2"]
    assert list(book["Page 2 table 1"].iter_rows(values_only=True)) == [
        ("Item", "Price"),
        ("Tea", "3.50"),
    ]
    word = EXPORTERS["docx"].export(source)
    assert isinstance(word, bytes)
    document = docx.Document(io.BytesIO(word))
    assert [[cell.text for cell in row.cells] for row in document.tables[0].rows] == [
        ["Item", "Price"],
        ["Tea", "3.50"],
    ]


# --- the searchable PDF -------------------------------------------------------------

XHTML = "{http://www.w3.org/1999/xhtml}"


def pdf_words(pdf: bytes) -> list[tuple[float, float, list[tuple[str, tuple[float, ...]]]]]:
    """Per page: width and height in points, and each word with its box (pdftotext -bbox)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    pages = []
    for page in ET.fromstring(out).iter(f"{XHTML}page"):  # noqa: S314 (our own PDF)
        words = [
            (
                word.text or "",
                tuple(float(word.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax")),
            )
            for word in page.iter(f"{XHTML}word")
        ]
        pages.append((float(page.get("width", 0)), float(page.get("height", 0)), words))
    return pages


RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff]")  # Hebrew, Arabic, Syriac, Thaana ...


def assert_text_layer_matches(job: dict[str, Any], pdf: bytes) -> None:
    """Every word of the text layer lies in a line box of the job, and each line box
    holds the words of that line's text."""
    pages = pdf_words(pdf)
    assert len(pages) == job["page_count"]
    for (width, height, words), page in zip(pages, job["pages"], strict=True):
        scale = width / page["width"]
        assert abs(height - page["height"] * scale) < 1
        boxes = [[v * scale for v in block["bbox"]] for block in page["blocks"]]
        found: list[list[str]] = [[] for _ in boxes]
        for text, (x0, y0, x1, y1) in words:
            line = next(
                (
                    n
                    for n, b in enumerate(boxes)
                    if b[0] - 1.5 <= x0
                    and x1 <= b[2] + 1.5
                    and b[1] - 1.5 <= y0
                    and y1 <= b[3] + 1.5
                ),
                None,
            )
            assert line is not None, f"{text!r} at {(x0, y0, x1, y1)} is outside every line box"
            found[line].append(text)
        for block, line_words in zip(page["blocks"], found, strict=True):
            # pdftotext -bbox lists a right-to-left line's words from the left; and it
            # joins CJK characters that Tesseract spaces apart, so compare without spaces
            if RIGHT_TO_LEFT.search(block["text"]):
                line_words.reverse()
            assert "".join(line_words) == "".join(block["text"].split())


def test_the_pdf_text_layer_lies_on_the_words(server: Server, report_job: dict[str, Any]) -> None:
    assert_text_layer_matches(report_job, download(server, report_job["uuid"], "pdf").content)


def test_a_multi_page_pdf_keeps_page_order_and_title(server: Server, tmp_path: Path) -> None:
    job = submit(server, numbered_pdf(7), "minutes.pdf", language="eng").json()
    job = wait_until_finished(server, job["uuid"])
    pdf = download(server, job["uuid"], "pdf").content
    assert_text_layer_matches(job, pdf)
    (tmp_path / "out.pdf").write_bytes(pdf)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "out.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "Title:           minutes.pdf" in info
    assert "Pages:           7" in info
    searched = subprocess.run(
        ["pdftotext", "-f", "4", "-l", "4", str(tmp_path / "out.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Page 4 of the quarterly report" in searched


SCANS = [
    TEST_DATA / "en_ehri_typed_dr19390519_03.jpg",  # EHRI Dataset, CC BY 4.0 (tests/data)
    TEST_DATA / "de_ehri_typed_wl1375b189_02.jpg",
]


def image_list(pdf: Path) -> list[list[str]]:
    """pdfimages' list of the images: page, size, colour, encoding, resolution, bytes."""
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return [[row.split()[i] for i in (0, 3, 4, 5, 8, 13, 14)] for row in listing]


def test_a_scanned_pdf_gets_its_text_layer_grafted_on_its_own_pages(
    server: Server, tmp_path: Path
) -> None:
    scans = scanned_pdf(SCANS, tmp_path / "scans.pdf")
    job = submit(server, scans.read_bytes(), "scans.pdf", language="eng+deu").json()
    assert job["status"] == "done"
    assert [page["source"] for page in job["pages"]] == ["ocr", "ocr"]
    for page, scan in zip(job["pages"], SCANS, strict=True):
        # each page read from its scan as stored (300 and 96 dpi), not from a rendering
        with Image.open(scan) as image:
            assert (page["width"], page["height"]) == image.size
    searchable = tmp_path / "searchable.pdf"
    searchable.write_bytes(download(server, job["uuid"], "pdf").content)

    # the scans are the upload's own, as they were: same pixels, same JPEG bytes
    assert image_list(searchable) == image_list(scans)
    # so the file is hardly larger than the upload: the text layer and one font
    assert searchable.stat().st_size <= 1.1 * scans.stat().st_size
    assert_text_layer_matches(job, searchable.read_bytes())
    checked = subprocess.run(["qpdf", "--check", str(searchable)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    info = subprocess.run(
        ["pdffonts", str(searchable)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert len(info) == 1  # the text layer's font, once for the document


def test_a_page_pdf_can_be_made_from_a_words_file(tmp_path: Path) -> None:
    """What a PDF upload's pages get where qpdf cannot take the upload: the rendering under
    the same words that would have been grafted."""
    page = render_page([["The board met on the third of March."]])
    reading = CpuEngine().read_page(page, index=0, language=resolve_language("eng"))
    words = tmp_path / "page.words.json"  # kept on disk as the job keeps it
    write_json_atomically(words, words_record(reading, dpi=300))
    out = tmp_path / "page.pdf"
    write_page_pdf_from_words(reading.image, read_json(words), out)
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert " ".join(text.split()) == "The board met on the third of March."
    ((width, height, placed),) = pdf_words(out.read_bytes())
    assert (round(width), round(height)) == (
        round(page.width * 72 / 300),
        round(page.height * 72 / 300),
    )
    assert [text for text, _ in placed] == [w.text for w in reading.words]


def test_an_uploaded_jpeg_is_embedded_as_it_is_and_a_png_without_loss(
    server: Server, tmp_path: Path
) -> None:
    scan = SCANS[0]  # a greyscale JPEG scan at 300 dpi
    job = submit(server, scan.read_bytes(), scan.name, language="eng").json()
    assert job["status"] == "done"
    searchable = tmp_path / "searchable.pdf"
    searchable.write_bytes(download(server, job["uuid"], "pdf").content)
    (listed,) = image_list(searchable)
    with Image.open(scan) as image:
        assert listed[:5] == ["1", str(image.width), str(image.height), "gray", "jpeg"]
    assert searchable.stat().st_size <= 1.1 * scan.stat().st_size
    assert_text_layer_matches(job, searchable.read_bytes())

    grey_page = render_page([["Lossless greyscale page"]]).convert("L")
    job = submit(server, image_bytes(grey_page, "PNG"), "page.png", language="eng").json()
    searchable.write_bytes(download(server, job["uuid"], "pdf").content)
    (listed,) = image_list(searchable)
    assert listed[3:5] == ["gray", "image"]  # Flate, not JPEG: no pixel changed
    # the embedded image, taken out as it is stored: the very pixels uploaded
    subprocess.run(["pdfimages", "-png", str(searchable), str(tmp_path / "p")], check=True)
    with Image.open(tmp_path / "p-000.png") as shown:
        assert shown.mode == "L"
        assert shown.size == grey_page.size
        assert shown.tobytes() == grey_page.tobytes()


@pytest.mark.parametrize(
    ("image_format", "orientation", "stored_as"),
    [
        # EXIF orientation 6: turn 90 degrees clockwise to view; 3: turn it over
        ("JPEG", 6, Image.Transpose.ROTATE_90),
        ("PNG", 3, Image.Transpose.ROTATE_180),
    ],
)
def test_a_photo_turned_by_its_exif_orientation_is_read_and_kept_upright(
    server: Server,
    tmp_path: Path,
    image_format: str,
    orientation: int,
    stored_as: Image.Transpose,
) -> None:
    """A camera stores a page on its side or upside down and says in EXIF how to turn it:
    the job reads it upright, and the searchable PDF shows it upright, not the file's
    pixels as stored."""
    with Image.open(SCANS[0]) as scan:
        scan.load()
    exif = scan.getexif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    scan.transpose(stored_as).save(
        buffer, format=image_format, exif=exif.tobytes(), dpi=scan.info["dpi"]
    )
    with Image.open(io.BytesIO(buffer.getvalue())) as stored:
        upright = ImageOps.exif_transpose(stored)  # what a photo viewer shows
    assert upright is not None

    job = submit(
        server, buffer.getvalue(), f"photo.{image_format.lower()}", language="eng",
        engine="tesseract",
    ).json()  # fmt: skip
    assert job["status"] == "done"
    page = job["pages"][0]
    assert (page["width"], page["height"]) == upright.size
    reference = (TEST_DATA / "en_ehri_typed_dr19390519_03.gt.txt").read_text()
    scores = corpus_scorer().score_pair(reference, job["text"])
    assert scores["char_edits"] / scores["ref_chars"] < 0.03  # the command's CER is 0.014

    searchable = tmp_path / "searchable.pdf"
    searchable.write_bytes(download(server, job["uuid"], "pdf").content)
    assert_text_layer_matches(job, searchable.read_bytes())
    subprocess.run(["pdfimages", "-png", str(searchable), str(tmp_path / "p")], check=True)
    with Image.open(tmp_path / "p-000.png") as shown:
        assert shown.size == upright.size
        assert ImageChops.difference(shown, upright.convert(shown.mode)).getbbox() is None


@pytest.mark.parametrize(
    "line",
    [
        "Straße, Ελλάδα, Москва — “Łódź” 12 €",  # the cut-down DejaVu Sans has all of these
        "Phonetics: ʃɪp ðə θɪŋ → ǂ",  # these only the whole font has
        "Chinese 北京 and Latin",  # and these only Unifont
    ],
)
def test_the_text_layer_font_has_every_character_of_the_page(tmp_path: Path, line: str) -> None:
    image = Image.new("L", (2400, 200), 255)
    left, words = 50, []
    for text in line.split():
        right = left + 40 * len(text)
        words.append([text, [left, 60, right, 110], [50, 60, 2350, 110]])
        left = right + 20
    out = tmp_path / "page.pdf"
    write_page_pdf_from_words(image, {"size": [2400, 200], "dpi": 300, "words": words}, out)
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.split() == line.split()


def test_text_copied_out_of_a_typewritten_scans_pdf_reads_as_the_job_does(
    server: Server,
) -> None:
    """pdftotext of the searchable PDF (what a reader copies) against the job's text: the
    same words in the same lines, but for hyphenated words that it joins. A text layer
    font whose em is smaller than the line made pdftotext take the gaps between
    typewritten words for columns and tear lines apart (CER 0.079 here)."""
    scan = TEST_DATA / "de_ehri_typed_wl1375b189_02.jpg"
    job = submit(server, scan.read_bytes(), scan.name, language="deu", engine="tesseract").json()
    assert job["status"] == "done"
    pdf = download(server, job["uuid"], "pdf").content
    copied = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    scores = corpus_scorer().score_pair(job["text"], copied)
    assert scores["char_edits"] / scores["ref_chars"] < 0.06


def test_a_png_scan_and_a_fax_tiff_keep_their_own_compressed_data(
    server: Server, tmp_path: Path
) -> None:
    with Image.open(SCANS[0]) as scan:  # its pixels and resolution, as a scanner's PNG
        png, fax = io.BytesIO(), io.BytesIO()
        scan.save(png, format="PNG", dpi=scan.info["dpi"])
        scan.convert("1").save(fax, format="TIFF", compression="group4", dpi=scan.info["dpi"])
    uploads = ((png.getvalue(), "scan.png", "image"), (fax.getvalue(), "scan.tif", "ccitt"))
    for upload, name, encoding in uploads:
        job = submit(server, upload, name, language="eng", engine="tesseract").json()
        assert job["status"] == "done"
        searchable = tmp_path / f"{name}.pdf"
        searchable.write_bytes(download(server, job["uuid"], "pdf").content)
        (listed,) = image_list(searchable)
        assert listed[4] == encoding, name  # the upload's own data: Flate rows, G4 fax
        # nothing decoded and compressed again: the page is about the upload's size
        assert searchable.stat().st_size <= 1.1 * len(upload) + 16_000, name
        assert_text_layer_matches(job, searchable.read_bytes())


@pytest.mark.parametrize(
    ("language", "lines", "font"),
    [
        ("ru", ["Отчёт о работе комиссии", "Москва, третье марта"], None),
        ("ar", ["تقرير اللجنة السنوي", "القاهرة في الثالث من مارس"], None),
        ("ch", ["委员会年度报告", "北京三月三日会议记录"], CJK_FONT),
    ],
)
def test_every_script_survives_the_pdf_text_layer(
    server: Server, language: str, lines: list[str], font: Path | None
) -> None:
    page = render_page([lines], font_size=56, font_path=font or FONT)
    job = submit(server, image_bytes(page, "PNG"), language=language).json()
    assert job["status"] == "done"
    ocr_text = job["pages"][0]["text"]
    assert ocr_text.strip(), "the OCR read nothing"
    pdf = download(server, job["uuid"], "pdf").content
    assert_text_layer_matches(job, pdf)
    # and the page's own script is what came back
    script_of = {"ru": "Отчёт", "ar": "اللجنة", "ch": "年度报告"}
    assert script_of[language] in "".join(ocr_text.split())
