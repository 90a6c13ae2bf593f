"""The cpu tier's two recognizers: PP-OCRv6 where it reads better, Tesseract for the rest.

Real scans from tests/data: EHRI Dataset, F. Chiffoleau et al., European
Holocaust Research Infrastructure, https://github.com/FloChiff/ehri-dataset,
CC BY 4.0; GT4HistComment, M. Romanello, S. Najem-Meyer, B. Robertson et al.,
Ajax Multi-Commentary project,
https://github.com/AjaxMultiCommentary/GT-commentaries-OCR, CC BY 4.0;
LECTAUREP Notaires de Paris - Répertoires, Archives nationales (Minutier
central) / Inria ALMAnaCH / EPHE, https://github.com/HTR-United/lectaurep-repertoires,
CC BY 4.0.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import docx
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from ocrchat_server.engines import ppocr
from ocrchat_server.engines.cpu import CpuEngine
from ocrchat_server.engines.languages import resolve_language
from tests.conftest import Server
from tests.documents import FONT, TEST_DATA, image_bytes, render_page
from tests.test_api import assert_error, submit
from tests.test_ocr_quality import AUTO_PAGES, cer, tesseract_cli

PRINTED = {"en_ehri_typed_dr19390519_03.jpg": "eng", "de_ehri_typed_wl1375b189_02.jpg": "deu"}
COMMENTARY = TEST_DATA / "en_multicol_campbell_1881_p63.png"
TABLE = TEST_DATA / "fr_table_lectaurep_dufour_07691.jpg"
NARROW_GUTTER = TEST_DATA / "de_multicol_schneidewin_1853_p95.png"


def reference(page_name: str) -> str:
    return (TEST_DATA / page_name).with_suffix(".gt.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(PRINTED))
def test_the_default_engine_reads_printed_scans_better_than_tesseract(
    server: Server, name: str
) -> None:
    page = TEST_DATA / name
    language = PRINTED[name]
    job = submit(server, page.read_bytes(), name, language=language).json()

    ours = cer(reference(name), job["text"])
    theirs = cer(reference(name), tesseract_cli(page, language))
    assert ours <= 0.7 * theirs, (ours, theirs)
    assert job["engine"] == "auto"
    assert job["pages"][0]["engine"] == "ppocr"
    assert job["pages"][0]["source"] == "ocr"
    blocks = job["pages"][0]["blocks"]
    assert {block["engine"] for block in blocks} == {"ppocr"}
    # a clean typed page: hardly a line worth a second look
    assert sum(block["low_confidence"] for block in blocks) <= len(blocks) // 10


def test_auto_language_reads_as_well_as_naming_it(server: Server) -> None:
    name = "de_ehri_typed_wl1375b189_02.jpg"
    page = TEST_DATA / name
    named = submit(server, page.read_bytes(), name, language="deu").json()
    auto = submit(server, page.read_bytes(), name).json()

    assert auto["pages"][0]["detected_languages"] == ["de"]
    assert auto["pages"][0]["language"] == "deu"
    named_cer = cer(reference(name), named["text"])
    assert cer(reference(name), auto["text"]) <= named_cer * 1.02 + 0.001


def _greek_letters(text: str) -> int:
    return sum(unicodedata.name(c, "").startswith("GREEK") for c in text if c.isalpha())


def test_greek_lines_on_a_latin_page_are_read_by_tesseract(server: Server) -> None:
    job = submit(server, COMMENTARY.read_bytes(), COMMENTARY.name, language="eng+grc").json()

    page = job["pages"][0]
    assert page["engine"] == "ppocr+tesseract"
    greek_blocks = [b for b in page["blocks"] if b["engine"] == "tesseract"]
    english_blocks = [b for b in page["blocks"] if b["engine"] == "ppocr"]
    assert greek_blocks
    assert english_blocks
    # polytonic accents (breathings, circumflex) that PP-OCRv6 has no letters for
    assert any(
        "\u0313" in unicodedata.normalize("NFD", b["text"])
        or "\u0342" in unicodedata.normalize("NFD", b["text"])
        for b in greek_blocks
    )
    # only lines with Greek in them (verse, or Greek words quoted in the notes) went over
    assert all(
        _greek_letters(b["text"]) >= 0.15 * sum(c.isalpha() for c in b["text"])
        for b in greek_blocks
    )
    # a Greek word in an English line: Tesseract's word in place of PP-OCRv6's Latin letters
    mixed = [b["text"] for b in page["blocks"] if b["engine"] == "ppocr+tesseract"]
    assert any("The plural ὧν is equivalent" in text for text in mixed), mixed
    assert "&v" not in job["text"]
    # Greek as it is written: θ, not the mathematical symbol ϑ Tesseract gives for a curly
    # theta, and an elided word's apostrophe, not a spacing breathing mark
    greek = " ".join(b["text"] for b in greek_blocks)
    assert "θ" in greek
    assert not set(greek) & set("ϑϐϰϱϖϕ\u1fbd")
    ours = cer(reference(COMMENTARY.name), job["text"])
    theirs = cer(reference(COMMENTARY.name), tesseract_cli(COMMENTARY, "eng+grc"))
    assert ours < theirs, (ours, theirs)
    # the running head: page number and title, marked
    labels = {b["text"]: b["label"] for b in page["blocks"] if b["label"]}
    assert labels.get("30") == "page_number"
    assert "page_header" in labels.values()
    # one row, so one region: the running head's
    head = page["regions"][page["blocks"][0]["region"]]
    assert head["label"] == "page_header"


def two_column_page() -> tuple[Image.Image, list[str], list[str]]:
    """Two columns of running text whose lines sit at the same heights."""
    left = [f"Left column sentence number {n} goes on." for n in range(1, 9)]
    right = [f"Right column remark {n} follows here." for n in range(1, 9)]
    page = Image.new("L", (2000, 1200), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 34)
    for row, (a, b) in enumerate(zip(left, right, strict=True)):
        draw.text((80, 120 + row * 60), a, font=font, fill=0)
        draw.text((1060, 120 + row * 60), b, font=font, fill=0)
    return page, left, right


@pytest.mark.parametrize("engine", ["auto", "ppocr"])
def test_columns_are_read_one_after_the_other(server: Server, engine: str) -> None:
    page, left, right = two_column_page()
    job = submit(server, image_bytes(page, "PNG"), "columns.png", language="eng", engine=engine)
    text = job.json()["text"]

    positions = [text.find(line) for line in left + right]
    assert all(position >= 0 for position in positions), text
    assert positions == sorted(positions), text


def test_a_negative_two_column_page_is_read_column_by_column() -> None:
    """Schneidewin's commentary as a negative (a microfilm's light type on dark): where
    PP-OCRv6 found one line across the two columns, the gutter shows as a stripe without
    light type. Looked for as a stripe without dark type, it was missed, and the columns
    read across, a line of each in turn (1,609 character errors against 213)."""
    with Image.open(NARROW_GUTTER) as scan:
        positive = scan.convert("L")
    language = resolve_language("deu+grc")
    truth = reference(NARROW_GUTTER.name)

    as_printed = CpuEngine().read_page(positive, index=0, language=language)
    negative = CpuEngine().read_page(ImageOps.invert(positive), index=0, language=language)

    printed_cer = cer(truth, as_printed.page.text)
    assert cer(truth, negative.page.text) <= printed_cer * 1.2 + 0.01, printed_cer
    text = negative.page.text
    # the left column's last line comes before the right column's first
    assert text.find("beider Atriden statt des Agamem") < text.find("ter, Nacht, Sturm")


def test_greek_verse_comes_without_its_accents_read_as_signs() -> None:
    """Schneidewin's verses are polytonic Greek with the accents and breathings set high
    above the letters. Tesseract, which reads the Greek, found the marks a line of their
    own ("> N \\ 2 ἕ \\ -}γ ," above "ἐγὼ γὰρ ἐξ οὗ χειρὶ τοῦτʼ ἐδεξάμην"), and its words
    went into the verse: 32 signs and stray letters in the first six verses, 63
    character errors of the page's 206."""
    with Image.open(NARROW_GUTTER) as scan:
        read = CpuEngine().read_page(scan, index=0, language=resolve_language("deu+grc"))

    verses = [block for block in read.page.blocks if "tesseract" in (block.engine or "")][:6]
    assert len(verses) == 6
    text = " ".join(block.text for block in verses)
    for word in ("γὰρ", "χειρὶ", "Ἕκτορος", "ἔσχον", "βροτῶν", "ὀνήσιμα."):
        assert word in text.split(), text
    signs = [word for word in text.split() if not any(c.isalpha() for c in word)]
    assert signs == [], text


def test_figures_in_a_greek_line_are_read_as_ppocr_reads_them() -> None:
    """Wecklein's commentary quotes Greek between references. Tesseract, which reads its
    lines with Greek, read the references' figures with its Greek model: "Eum. 920" for
    Eum. 520, "1085 1. ... 1 8" for 1085 f. ... I §. Where Tesseract read no letter,
    PP-OCRv6's word in the same place is taken (115 -> 105 character errors)."""
    page = TEST_DATA / "de_hist_wecklein_1894_p87.png"
    with Image.open(page) as scan:
        read = CpuEngine().read_page(scan, index=0, language=resolve_language("frk+grc"))

    lines = [block.text for block in read.page.blocks if "tesseract" in (block.engine or "")]
    eumenides = next(line for line in lines if "Eum." in line)
    assert "Eum. 520" in eumenides, eumenides
    grammar = next(line for line in lines if "1085" in line and "Kr." in line)
    assert "1085 f." in grammar, grammar
    assert "§" in grammar.split(), grammar


def test_a_latin_page_has_no_chinese_signs() -> None:
    """PP-OCRv6's characters are mostly Chinese. On the 1761 Latin table it read a dash as
    the ideograph for one ("一3." for "— 3."): on a page in no CJK language, CJK signs
    and full-width forms are the Latin punctuation they look like."""
    page = TEST_DATA / "la_table_vdsbb_bergen_1761_p510.tif"
    with Image.open(page) as scan:
        read = CpuEngine().read_page(scan, index=0, language=resolve_language("lat"))

    text = read.page.text
    assert not [c for c in text if "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"]
    assert "—3." in text.split() or "— 3." in text, text
    for block in read.page.blocks:
        for word in block.words or []:
            assert word.text in block.text


@pytest.mark.parametrize("specks", ["dust", "grain"])
def test_a_specked_two_column_page_is_read_column_by_column(specks: str) -> None:
    """Schneidewin's commentary as a dusty or grainy copy: one pixel in a hundred a black
    or white speck, or every pixel's grey off by random grain. The detector ran the note
    columns' lines across the gutter, and the specks filled the gutter's blank stripe, so
    no line was cut there: the columns read across, a line of each in turn (1,526 and
    1,397 character errors, against 206 for the clean page then; Tesseract alone made 900
    and 284). The grainy copy still loses a line of verse to the detector."""
    import numpy

    with Image.open(NARROW_GUTTER) as scan:
        positive = scan.convert("L")
    pixels = numpy.asarray(positive).astype(numpy.float64)
    chance = numpy.random.default_rng(0)
    if specks == "dust":
        draw = chance.random(pixels.shape)
        pixels[draw < 0.01], pixels[draw > 0.99] = 0, 255
    else:
        pixels += chance.normal(0, 18, pixels.shape)
    specked = Image.fromarray(pixels.clip(0, 255).astype(numpy.uint8))
    language = resolve_language("deu+grc")
    truth = reference(NARROW_GUTTER.name)

    as_printed = CpuEngine().read_page(positive, index=0, language=language)
    read = CpuEngine().read_page(specked, index=0, language=language)

    printed_cer = cer(truth, as_printed.page.text)
    assert cer(truth, read.page.text) <= printed_cer * 2 + 0.01, printed_cer
    text = read.page.text
    # each note column read whole: the left one's last line before the right one's first
    # line, and the right one's lines in turn
    assert 0 <= text.find("Schönen und Gebietenden") < text.find("ter, Nacht, Sturm")
    assert text.find("ter, Nacht, Sturm") < text.find("Apollon und Artemis")


def test_a_bilevel_scan_is_read_better_than_by_tesseract(server: Server, tmp_path: Path) -> None:
    """The German typed letter thresholded to black and white, as a cheap scanner saves it:
    a line cut at a gutter left a piece one pixel wide, on which the recognizer failed, and
    the page with it ("Page 1 could not be processed")."""
    with Image.open(TEST_DATA / "de_ehri_typed_wl1375b189_02.jpg") as scan:
        bilevel = scan.convert("L").point(lambda value: 255 if value > 150 else 0).convert("1")
    page = tmp_path / "bilevel.png"
    bilevel.save(page)
    truth = (TEST_DATA / "de_ehri_typed_wl1375b189_02.gt.txt").read_text(encoding="utf-8")

    job = submit(server, page.read_bytes(), page.name, language="deu").json()

    assert job["status"] == "done", job.get("error")
    assert cer(truth, job["text"]) < cer(truth, tesseract_cli(page, "deu"))


def test_records_stay_on_their_own_lines_in_markdown(server: Server) -> None:
    page = Image.new("L", (1654, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 40)
    lines = [
        "Dear customer, thank you for your order of the twelfth of",
        "March; the goods were sent on the same day by rail.",
        "Invoice number: 10442",
        "Total: 215.00 USD",
    ]
    for row, line in enumerate(lines):
        gap = 80 if row >= 2 else 0  # the records start after a gap, as on any invoice
        draw.text((100, 100 + row * 60 + gap), line, font=font, fill=0)
    job = submit(server, image_bytes(page, "PNG"), "invoice.png", language="eng").json()

    markdown_lines = [line.strip() for line in job["markdown"].splitlines() if line.strip()]
    # running text is still joined into one paragraph ...
    assert " ".join(lines[:2]) in markdown_lines
    # ... but records are not
    assert "Invoice number: 10442" in markdown_lines
    assert "Total: 215.00 USD" in markdown_lines


def test_a_table_s_cells_are_read_a_row_a_line(server: Server) -> None:
    """PP-OCRv6 finds each cell of a table as a line of its own: the text reads a row's
    cells as one line, as a reader and ``tesseract`` do, each cell keeps its block, and
    Markdown and docx show the rows of cells as a table."""
    rows = [
        ["Region", "Q1", "Q2", "Total"],
        ["North", "32,190", "78,678", "110,868"],
        ["South", "80,157", "63,135", "143,292"],
        ["Export", "2,725", "59,277", "62,002"],
    ]
    page = Image.new("L", (1654, 700), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 40)
    for number, row in enumerate(rows):
        for x, cell in zip((100, 500, 800, 1100), row, strict=True):
            draw.text((x, 120 + number * 70), cell, font=font, fill=0)
    job = submit(server, image_bytes(page, "PNG"), "table.png", language="eng").json()

    assert [line for line in job["text"].splitlines() if line] == [" ".join(r) for r in rows]
    blocks = [block["text"] for block in job["pages"][0]["blocks"]]
    assert blocks == [cell for row in rows for cell in row]
    # Markdown and docx: a table, though no ruling lines showed one
    markdown_lines = [line.strip() for line in job["markdown"].splitlines() if line.strip()]
    assert markdown_lines == [
        "| Region | Q1 | Q2 | Total |",
        "| --- | --- | --- | --- |",
        *("| " + " | ".join(row) + " |" for row in rows[1:]),
    ]
    word = server.client.get(
        f"/api/v1/ocr/{job['uuid']}/download/?format=docx", headers=server.headers()
    )
    assert word.status_code == 200
    document = docx.Document(io.BytesIO(word.content))
    assert [[cell.text for cell in row.cells] for row in document.tables[0].rows] == rows


def test_a_script_ppocr_lacks_goes_to_tesseract(server: Server) -> None:
    png = io.BytesIO()
    lines, _, font = AUTO_PAGES["ru"]
    render_page([lines], font_size=48, font_path=font).save(png, format="PNG")
    page = submit(server, png.getvalue()).json()["pages"][0]
    assert page["engine"] == "tesseract"
    assert page["language"] == "rus"


def test_bad_engine_and_ocr_values_are_refused(server: Server) -> None:
    png = image_bytes(two_column_page()[0], "PNG")
    assert_error(submit(server, png, engine="paddle"), 400, "invalid_engine")
    assert_error(submit(server, png, ocr="sometimes"), 400, "invalid_ocr")
    body = assert_error(
        submit(server, png, language="ara", engine="ppocr"), 400, "engine_cannot_read_language"
    )
    assert "engine=tesseract" in body["error"]
    assert_error(submit(server, png, tier="vlm", engine="ppocr"), 400, "engine_needs_cpu")
    # nothing was charged for the refused requests, and the server still serves
    account = server.client.get("/api/v1/account/", headers=server.headers()).json()
    assert account["usage"]["day"] == 0
    assert submit(server, png, language="eng").status_code == 200


def test_tables_on_a_real_negative_microfilm_register(server: Server) -> None:
    job = submit(
        server, TABLE.read_bytes(), TABLE.name, language="fr", tool="extract-tables"
    ).json()

    assert job["status"] == "done", job.get("error")
    page = job["pages"][0]
    assert page["tables"], "no table found on a ruled register"
    cells = " ".join(cell for table in page["tables"] for row in table["rows"] for cell in row)
    reference_words = set(reference(TABLE.name).split())
    assert len(set(cells.split()) & reference_words) >= 10
    csv = server.client.get(
        f"/api/v1/ocr/{job['uuid']}/download/?format=csv", headers=server.headers()
    )
    assert csv.status_code == 200


def test_lines_read_on_the_idle_workers_cores_read_as_on_one() -> None:
    """A server's worker recognizes its lines on the idle workers' cores too, while they
    are idle (a lone page, an inline request's often): the same lines, the same words and
    confidences, only sooner."""
    english = resolve_language("eng")
    with Image.open(TEST_DATA / "en_ehri_typed_dr19390519_03.jpg") as scan:
        scan.load()
        one = CpuEngine().read_page(scan, index=0, language=english)
        ppocr.read_on_free_cores(lambda: 2)  # what a worker is told while another is idle
        try:
            two = CpuEngine().read_page(scan, index=0, language=english)
        finally:
            ppocr.read_on_free_cores(lambda: 1)
    assert two.page.text == one.page.text
    assert [block.bbox for block in two.page.blocks] == [block.bbox for block in one.page.blocks]
    assert [block.confidence for block in two.page.blocks] == [
        block.confidence for block in one.page.blocks
    ]
    assert "promulgation" in two.page.text.split()


def test_ppocr_reads_with_networking_cut_off() -> None:
    """PP-OCRv6's models come from rapidocr's wheel: reading a page opens no socket."""
    program = f"""
import socket
def refuse(*args, **kwargs):
    raise OSError("networking is cut off in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from PIL import Image
from ocrchat_server.engines import ppocr
lines = ppocr.read_lines(Image.open({str(TEST_DATA / "en_ehri_typed_dr19390519_03.jpg")!r}))
print(" ".join(line.text for line in lines))
"""
    command = [sys.executable, "-c", program]
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Jew Bill" in done.stdout, done.stdout[:500]


def test_handwriting_on_the_cpu_tier_is_read_by_ppocr(server: Server) -> None:
    """Jane Lathrop Stanford memorial letter 251 (CC BY 4.0; see tests/data/README.md)."""
    name = "en_hw_stanford_lettre251.jpg"
    page = TEST_DATA / name
    job = submit(server, page.read_bytes(), name, tool="handwriting-to-text").json()

    assert job["status"] == "done"
    assert job["pages"][0]["engine"] == "ppocr"
    ours = cer(reference(name), job["text"])
    theirs = cer(reference(name), tesseract_cli(page, "eng"))
    assert ours < 0.5 * theirs, (ours, theirs)
    refused = submit(server, page.read_bytes(), name, tool="handwriting-to-text", language="ar")
    assert_error(refused, 400, "engine_cannot_read_language")


@pytest.mark.parametrize("line", ["Invoice 10442", "Total: 215.00 USD due 3 March"])
def test_a_single_line_image_is_read_with_auto(server: Server, line: str) -> None:
    """A cut-out line (a label, a field of a form): little for detection to go on."""
    image = Image.new("L", (700, 70), 255)
    ImageDraw.Draw(image).text((10, 10), line, font=ImageFont.truetype(str(FONT), 40), fill=0)
    job = submit(server, image_bytes(image, "PNG"), "line.png").json()  # language=auto

    assert job["status"] == "done"
    assert job["text"] == line
    assert job["pages"][0]["engine"] == "ppocr"
