"""Words and regions: each block's words with their boxes (``?detail=words``) and the
paragraph or layout block each line belongs to, on every reader: Tesseract, PP-OCRv6, a
PDF's own text and Surya, against the real app, real engines and real scans."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import ocrchat
from ocrchat_server.engines.cpu import CpuEngine
from ocrchat_server.engines.languages import resolve_language
from ocrchat_server.engines.page_text import TextLine, build_page, in_paragraphs
from ocrchat_server.engines.reading_order import (
    line_pieces,
    page_skew,
    paragraphs,
    reading_order,
    upright_boxes,
)
from ocrchat_server.engines.words import aligned_words, estimated_words, join_words, split_words
from tests.conftest import Server
from tests.documents import CJK_FONT, TEST_DATA, image_bytes, numbered_pdf, render_page, text_pdf
from tests.fake_surya import FakeBlock, FakeSurya
from tests.test_api import API, assert_error, submit, wait_until_finished
from tests.test_downloads import pdf_words
from tests.test_vlm import drawn_page, fake_surya, post, vlm_client  # noqa: F401 (fixtures)

if TYPE_CHECKING:
    from ocrchat.models import BBox

SCAN = TEST_DATA / "en_ehri_typed_dr19390519_03.jpg"  # EHRI Dataset, CC BY 4.0 (tests/data)
GERMAN_SCAN = TEST_DATA / "de_ehri_typed_wl1375b189_02.jpg"


def get_job(server: Server, uuid: str, **query: str) -> Any:
    return server.client.get(f"{API}{uuid}/", params=query, headers=server.headers())


def inside(box: list[int], outer: list[int]) -> bool:
    return outer[0] <= box[0] <= box[2] <= outer[2] and outer[1] <= box[1] <= box[3] <= outer[3]


def assert_words_fit(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Every block's words lie inside its box, are in reading order, and joined give its
    text; returns all the page's words."""
    words = []
    for block in page["blocks"]:
        assert block["words"], block
        for word in block["words"]:
            assert inside(word["bbox"], block["bbox"]), (word, block["bbox"])
            assert word["text"]
            assert not any(c.isspace() for c in word["text"])
            assert 0.0 <= word["confidence"] <= 1.0
        joined = join_words(word["text"] for word in block["words"])
        if "\n" in block["text"]:  # a vlm block of several lines: its breaks as spaces
            assert joined == join_words(block["text"].split())
        else:
            assert joined == block["text"]
            lefts = [word["bbox"][0] for word in block["words"]]
            assert lefts == sorted(lefts)  # left to right along the line
        words += block["words"]
    return words


def assert_regions_fit(page: dict[str, Any]) -> None:
    """Each block points at a region that holds its box; regions are in reading order, each
    one's lines together, as the page's text has its paragraphs."""
    regions = page["regions"]
    assert regions
    numbers = [block["region"] for block in page["blocks"]]
    assert numbers == sorted(numbers)
    assert set(numbers) == set(range(len(regions)))
    for block in page["blocks"]:
        assert inside(block["bbox"], regions[block["region"]]["bbox"])


def read_scan(server: Server, scan: Path, **fields: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job of ``scan`` as GET shows it, and as ``?detail=words`` does."""
    job = submit(server, scan.read_bytes(), scan.name, **fields).json()
    assert job["status"] == "done", job
    with_words = get_job(server, job["uuid"], detail="words")
    assert with_words.status_code == 200
    return job, with_words.json()


# --- the readers ----------------------------------------------------------------------


def test_tesseract_words_are_its_own_inside_their_lines(server: Server) -> None:
    _job, detailed = read_scan(server, SCAN, engine="tesseract", language="eng")

    page = detailed["pages"][0]
    assert {block["engine"] for block in page["blocks"]} == {"tesseract"}
    words = assert_words_fit(page)
    assert len(words) > 150
    assert not any(word["estimated"] for word in words)  # Tesseract's own word level
    # its own word confidences: they differ from word to word, and from their line's
    assert len({word["confidence"] for word in words}) > 20
    assert_regions_fit(page)
    # Tesseract's paragraphs are the regions, and the blank lines of the page's text
    assert len(page["regions"]) == page["text"].count("\n\n") + 1


def test_ppocr_words_have_the_boxes_of_its_recognizer(server: Server) -> None:
    """The default engine: rapidocr's word boxes (from the recognizer's character
    positions), matched to the line's words; not laid out by character counts."""
    _job, detailed = read_scan(server, SCAN, language="eng")

    page = detailed["pages"][0]
    assert {block["engine"] for block in page["blocks"]} == {"ppocr"}
    words = assert_words_fit(page)
    assert sum(word["estimated"] for word in words) <= len(words) // 20
    # the box of a word of the scan lies on its ink: "everybody" on line 1 of
    # the paragraph sits where Tesseract finds it too, give or take a letter
    _, by_tesseract = read_scan(server, SCAN, engine="tesseract", language="eng")
    theirs = {w["text"]: w["bbox"] for w in assert_words_fit(by_tesseract["pages"][0])}
    ours = {w["text"]: w["bbox"] for w in words}
    letter = 25  # pixels: a typewriter letter of the scan is about 20 wide
    shared = [text for text in ours if text in theirs and len(text) > 6]
    assert len(shared) > 20
    close = [
        text
        for text in shared
        if abs(ours[text][0] - theirs[text][0]) < letter
        and abs(ours[text][2] - theirs[text][2]) < letter
    ]
    assert len(close) >= 0.9 * len(shared)
    assert_regions_fit(page)
    assert len(page["regions"]) == page["text"].count("\n\n") + 1


def test_a_pdfs_own_text_gives_its_glyph_boxes(server: Server, tmp_path: Path) -> None:
    lines = [
        "The committee met on the third of March.",
        "Receipts rose by eleven percent this year.",
    ]
    pdf = text_pdf([lines])
    _job, detailed = read_scan_bytes(server, pdf, "minutes.pdf")

    page = detailed["pages"][0]
    assert {block["engine"] for block in page["blocks"]} == {"text_layer"}
    words = assert_words_fit(page)
    assert [word["text"] for word in words] == " ".join(lines).split()
    assert all(word["confidence"] == 1.0 and not word["estimated"] for word in words)
    # the same boxes as poppler finds for the PDF's words (points, scaled to our pixels)
    ((width, _, found),) = pdf_words(pdf)
    scale = page["width"] / width
    assert [text for text, _ in found] == [word["text"] for word in words]
    for (_, box), word in zip(found, words, strict=True):
        # poppler's boxes are the glyphs' advance widths; ours the same edges
        assert abs(box[0] * scale - word["bbox"][0]) <= 4
        assert abs(box[2] * scale - word["bbox"][2]) <= 4
    assert_regions_fit(page)


def read_scan_bytes(
    server: Server, content: bytes, name: str, **fields: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    job = submit(server, content, name, **fields).json()
    assert job["status"] == "done", job
    return job, get_job(server, job["uuid"], detail="words").json()


def test_chinese_is_split_into_characters_joined_without_spaces() -> None:
    """A line written without spaces: each CJK character is a word, with its own box
    from PP-OCRv6's recognizer; the words joined without spaces between CJK give the
    line's text."""
    image = render_page([["会议于三月三日召开，审议了全年账目。"]], font_path=CJK_FONT)
    reading = CpuEngine(engine="ppocr").read_page(
        image, index=0, language=resolve_language("chi_sim")
    )
    (block,) = reading.page.blocks
    assert block.words is not None
    assert [word.text for word in block.words] == list(block.text)
    assert "".join(word.text for word in block.words) == block.text
    assert not any(word.estimated for word in block.words)
    lefts = [word.bbox[0] for word in block.words]
    assert lefts == sorted(lefts)
    assert len(set(lefts)) == len(lefts)


def test_the_searchable_pdf_places_the_jobs_words(server: Server) -> None:
    """The PDF's text layer is the job's words, each over its own box."""
    job, detailed = read_scan(server, GERMAN_SCAN, language="deu")
    page = detailed["pages"][0]
    words = assert_words_fit(page)
    pdf = server.client.get(f"{API}{job['uuid']}/download/?format=pdf", headers=server.headers())
    ((width, _, found), *_) = pdf_words(pdf.content)
    scale = width / page["width"]
    at = 0
    for text, box in found:
        # pdftotext takes words a pixel or two apart ("Junge" "-hatte") for one
        run = [words[at]]
        while "".join(word["text"] for word in run) != text:
            run.append(words[at + len(run)])
        at += len(run)
        assert abs(box[0] / scale - run[0]["bbox"][0]) <= 2
        assert abs(box[2] / scale - run[-1]["bbox"][2]) <= 2
    assert at == len(words)


# --- the API ----------------------------------------------------------------------------


def test_the_default_json_leaves_words_out(server: Server) -> None:
    job, detailed = read_scan(server, SCAN, language="eng")
    again = get_job(server, job["uuid"])  # from the cache of done jobs' bodies this time
    assert again.json() == job

    for page in job["pages"]:
        assert all(block["words"] is None for block in page["blocks"])
        assert all(isinstance(block["region"], int) for block in page["blocks"])
    # the default is the job with words, less the words: and a fraction of its size
    for page in detailed["pages"]:
        for block in page["blocks"]:
            block["words"] = None
    assert detailed == job
    default_size = len(again.content)
    assert 2 * default_size < len(get_job(server, job["uuid"], detail="words").content)
    # what the default gained over a job without words and regions: those fields alone
    for page in job["pages"]:
        del page["regions"]
        for block in page["blocks"]:
            del block["words"], block["region"]
    added = default_size - len(json.dumps(job, separators=(",", ":"), ensure_ascii=False))
    regions = sum(len(page["regions"]) for page in detailed["pages"])
    blocks = sum(len(page["blocks"]) for page in detailed["pages"])
    assert added <= 40 * regions + 30 * blocks + 20


def test_an_unknown_detail_is_refused(server: Server) -> None:
    job = submit(server, image_bytes(render_page([["Minutes"]]), "PNG"), "page.png").json()
    assert get_job(server, job["uuid"]).status_code == 200  # its body is cached now
    assert_error(get_job(server, job["uuid"], detail="bogus"), 400, "invalid_detail")
    assert_error(get_job(server, job["uuid"], detail="Words"), 400, "invalid_detail")
    # an empty one is none at all
    assert get_job(server, job["uuid"], detail="").json()["pages"][0]["blocks"][0]["words"] is None
    assert get_job(server, job["uuid"], detail="words").json()["pages"][0]["blocks"][0]["words"]


def test_every_page_of_a_queued_job_keeps_its_words(server: Server) -> None:
    """A job read page by page in the workers: each page's words go into the stored
    result, and the default view reads it without them."""
    job = submit(server, numbered_pdf(7), "seven.pdf").json()
    assert job["status"] in ("pending", "processing")  # read by the workers, not in the request
    done = wait_until_finished(server, job["uuid"])
    assert done["status"] == "done"
    assert all(b["words"] is None for page in done["pages"] for b in page["blocks"])

    detailed = get_job(server, job["uuid"], detail="words").json()
    assert len(detailed["pages"]) == 7
    for page in detailed["pages"]:
        assert_words_fit(page)
        assert_regions_fit(page)
    storage = server.backend.storage
    stored = storage.read_result(job["uuid"], words=True)
    assert all(block.words for page in stored.pages for block in page.blocks)
    assert not any(
        block.words for page in storage.read_result(job["uuid"]).pages for block in page.blocks
    )


def test_the_openapi_document_lists_detail(server: Server) -> None:
    document = server.client.get("/api/v1/openapi.json").json()
    parameters = document["paths"]["/api/v1/ocr/{uuid}/"]["get"]["parameters"]
    (detail,) = [p for p in parameters if p["name"] == "detail"]
    assert detail["in"] == "query"
    assert detail["schema"]["enum"] == ["words"]
    schemas = document["components"]["schemas"]
    assert set(schemas["Word"]["properties"]) == {"text", "bbox", "confidence", "estimated"}
    assert {"words", "region"} <= set(schemas["Block"]["properties"])
    assert "regions" in schemas["Page"]["properties"]


def test_the_sdk_gets_words_when_asked(server: Server) -> None:
    client = ocrchat.Client(server.alice, base_url="http://testserver", http_client=server.client)
    page = image_bytes(render_page([["The board met on the third of March."]]), "PNG")

    job = client.ocr(page, language="eng")
    assert job.pages is not None
    assert job.pages[0].blocks[0].words is None

    for with_words in (client.get(job, words=True), client.ocr(page, language="eng", words=True)):
        assert with_words.pages is not None
        (block,) = with_words.pages[0].blocks
        assert block.words is not None
        assert [word.text for word in block.words] == block.text.split()
        assert all(isinstance(word, ocrchat.Word) for word in block.words)
        assert block.region == 0
        (region,) = with_words.pages[0].regions
        assert isinstance(region, ocrchat.Region)

    queued = client.submit(numbered_pdf(7))
    polled = client.poll(queued, interval=0.2, words=True)
    assert polled.pages is not None
    assert all(block.words for page in polled.pages for block in page.blocks)


# --- the vlm tier -------------------------------------------------------------------------


def test_surya_blocks_are_regions_with_estimated_words(
    vlm_client: tuple[Any, str],  # noqa: F811 (the fixture)
    fake_surya: FakeSurya,  # noqa: F811
) -> None:
    """Surya gives a box per layout block, not per line or word: each block is a region
    of its own, its lines share its height and their words are laid out across them by
    their characters, marked estimated."""
    client, token = vlm_client
    png, (title_box, body_box) = drawn_page(
        [("Minutes of the meeting", 100), ("The members agreed on the budget.", 220)]
    )
    fake_surya.blocks = [
        FakeBlock("Section-Header", title_box, "<h1>Minutes of the meeting</h1>"),
        FakeBlock("Text", body_box, "<p>The members agreed</p><p>on the budget.</p>"),
    ]
    job = post(client, token, png, tier="vlm", language="en").json()
    assert job["status"] == "done", job
    assert all(block["words"] is None for block in job["pages"][0]["blocks"])

    detailed = client.get(
        f"{API}{job['uuid']}/",
        params={"detail": "words"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    page = detailed["pages"][0]
    words = assert_words_fit(page)
    assert [w["text"] for w in words] == [
        "Minutes",
        "of",
        "the",
        "meeting",
        "The",
        "members",
        "agreed",
        "on",
        "the",
        "budget.",
    ]
    assert all(word["estimated"] and word["confidence"] == 0.95 for word in words)
    assert [(r["label"], r["bbox"]) for r in page["regions"]] == [
        ("heading", page["blocks"][0]["bbox"]),
        ("text", page["blocks"][1]["bbox"]),
    ]
    assert [block["region"] for block in page["blocks"]] == [0, 1]
    # the body's two lines: each its half of the block's height
    body = page["blocks"][1]
    first, second = body["words"][:3], body["words"][3:]
    middle = (body["bbox"][1] + body["bbox"][3]) / 2
    assert all(word["bbox"][3] <= middle + 1 for word in first)
    assert all(word["bbox"][1] >= middle - 1 for word in second)


# --- laying words out -------------------------------------------------------------------


def test_words_split_at_spaces_and_between_cjk_characters() -> None:
    assert split_words("Total: 215 USD") == ["Total:", "215", "USD"]
    assert split_words("会议 于三月 ABC 2023年") == ["会", "议", "于", "三", "月", "ABC", "2023年"]
    for text in ("Total: 215 USD", "会议于三月 ABC 2023年", "ABC你好"):
        assert join_words(split_words(text)) == join_words(text.split())


def test_estimated_words_share_the_box_by_characters() -> None:
    words = estimated_words(["ab", "cdef"], (100, 10, 170, 30), 0.8)
    # 2 + 1 (the space) + 4 characters over 70 pixels: 10 a character
    assert [w.bbox for w in words] == [(100, 10, 120, 30), (130, 10, 170, 30)]
    assert all(w.estimated and w.confidence == 0.8 for w in words)


def test_engine_pieces_are_matched_to_the_words() -> None:
    box = (0, 0, 100, 20)
    # whole pieces: their boxes, clipped to the line
    whole = aligned_words(
        ["ab", "cd"], [("ab", (0, 0, 40, 22)), ("cd", (50, 1, 110, 19))], box, 0.9
    )
    assert whole is not None
    assert [(w.bbox, w.estimated) for w in whole] == [
        ((0, 0, 40, 20), False),
        ((50, 1, 100, 19), False),
    ]
    # a piece holding two words: each its share, estimated
    shared = aligned_words(["ab", "cd"], [("abcd", (0, 0, 80, 20))], box, 0.9)
    assert shared is not None
    assert [(w.bbox, w.estimated) for w in shared] == [
        ((0, 0, 40, 20), True),
        ((40, 0, 80, 20), True),
    ]
    # characters of a word: its box is around them
    chars = aligned_words(["会议"], [("会", (0, 0, 10, 20)), ("议", (12, 0, 22, 20))], box, 0.9)
    assert chars is not None
    assert [(w.bbox, w.estimated) for w in chars] == [((0, 0, 22, 20), False)]
    # other characters: no match
    assert aligned_words(["ab"], [("ax", (0, 0, 10, 20))], box, 0.9) is None


def test_a_row_s_cells_read_as_one_line_apart_by_spaces() -> None:
    """Lines the detector found side by side on one row read as one line of text, each
    keeping its block; Chinese cells stay apart by a space, though Chinese characters
    within a cell are not spaced."""
    cells = [
        TextLine(
            words=["東", "京"], confidences=[0.99, 0.99], bbox=(100, 100, 200, 140), engine="ppocr"
        ),
        TextLine(
            words=["大", "阪"], confidences=[0.99, 0.99], bbox=(400, 102, 500, 141), engine="ppocr"
        ),
        TextLine(words=["3,200"], confidences=[0.99], bbox=(700, 101, 820, 140), engine="ppocr"),
        TextLine(words=["名古屋"], confidences=[0.99], bbox=(100, 160, 240, 200), engine="ppocr"),
    ]
    order = list(range(len(cells)))
    page = build_page(
        in_paragraphs(cells, order), index=0, size=(1000, 400), models="chi_sim", engine="ppocr"
    )
    assert page.text == "東京 大阪 3,200\n名古屋"
    assert [block.text for block in page.blocks] == ["東京", "大阪", "3,200", "名古屋"]


def slanted_lines(slope: float, count: int, *, left: int = 100, width: int = 1500) -> list[BBox]:
    """The upright boxes a detector gives the lines of a typed page scanned ``slope``
    degrees askew: each box as tall as its line plus its rise along the slope."""
    rise = width * math.tan(math.radians(abs(slope)))
    return [
        (left, round(200 + 45 * n), left + width, round(200 + 45 * n + 50 + rise))
        for n in range(count)
    ]


def test_lines_cut_at_their_wide_spaces_stay_lines_of_their_column() -> None:
    """A 1910 two-column list of patents (Argus des brevets, held out from the corpus; the
    line boxes our detector found on it, tests/data/README.md): its gutter is narrower
    than a justified line's wide word space, and the detector cut many lines of the left
    column's lower half at such a space. Their pieces looked like a narrow column of their
    own: the left pieces were read before the right ones, and further down the two
    columns were read across, a line of each in turn (1,996 character errors, now 145).
    A table's cells, whose gaps the rows around them share, stay cells."""
    page = json.loads((TEST_DATA / "argus1910_p10_line_boxes.json").read_text())
    boxes: list[BBox] = [tuple(box) for box in page["boxes"]]
    gutter = sum(page["gutter"]) / 2

    def centre(box: BBox) -> tuple[float, float]:
        return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2

    read = [boxes[i] for i in reading_order(boxes)]
    sides = ["left" if centre(box)[0] < gutter else "right" for box in read]
    assert sides == sorted(sides)  # the whole left column, then the right one
    # down the left column, each piece on the row of the one before it or below it
    left = read[: sides.count("left")]
    went_back = [
        (above, below)
        for above, below in itertools.pairwise(left)
        if centre(below)[1] < centre(above)[1] - (above[3] - above[1]) / 2
    ]
    assert len(went_back) <= 1, went_back  # one piece the detector cut off stays apart

    # a table of three columns whose cells are a word space apart: the rows around each
    # cell stop at the same gaps, so no cell joins its neighbour, and rows are read in turn
    cells = [
        (x, 300 + 60 * row, x + 300, 340 + 60 * row) for row in range(6) for x in (100, 460, 820)
    ]
    assert line_pieces(cells) == [[i] for i in range(len(cells))]
    assert reading_order(cells) == list(range(len(cells)))


def test_a_page_scanned_askew_keeps_its_paragraph_and_its_table_rows() -> None:
    """A typed page scanned 2 degrees askew: each line's upright box reaches over the
    next, and every line had become a paragraph of its own."""
    lines = slanted_lines(2.0, 10)
    angles = [2.0] * len(lines)
    skew = page_skew(lines, angles)
    assert skew == pytest.approx(2.0)
    as_they_lie = paragraphs(lines, reading_order(lines))
    assert len(as_they_lie) == len(lines)  # the fault this is for
    upright = upright_boxes(lines, skew, angles)
    assert paragraphs(upright, reading_order(upright)) == [list(range(10))]
    # a level or nearly level page, and one with too few long lines, are laid out as they are
    assert page_skew(slanted_lines(0.3, 10), [0.3] * 10) == 0
    # a page photographed steeply askew: each line's box is taller with its rise than a
    # fifth of its length, yet the lines are long (their skew was taken for none)
    for steep in (12.0, -25.0):
        photographed = slanted_lines(steep, 10, width=700)
        assert page_skew(photographed, [steep] * 10) == pytest.approx(steep)
    # a 45-degree outline cannot tell its length from its height: laid out as it is
    assert page_skew(slanted_lines(45.0, 10), [45.0] * 10) == 0
    assert page_skew(lines[:2], angles[:2]) == 0
    assert upright_boxes(lines, 0.0) == lines

    # a table's cells on a page turned 2 degrees: each cell of a row lower than the one
    # before it, by more than half a row's height at the far end
    slope = math.tan(math.radians(2))
    cells = [
        (x, round(300 + 60 * row + x * slope), x + 300, round(300 + 60 * row + x * slope) + 40)
        for row in range(4)
        for x in (100, 700, 1300)
    ]
    texts = [f"r{row}c{column}" for row in range(4) for column in range(3)]
    lines_of_page = [
        TextLine(words=[text], confidences=[0.99], bbox=cell, engine="ppocr")
        for text, cell in zip(texts, cells, strict=True)
    ]
    # the page's long lines (a paragraph above the table) tell its skew
    upright_cells = upright_boxes(cells, 2.0)
    order = reading_order(upright_cells)
    page = build_page(
        [[lines_of_page[i] for i in group] for group in paragraphs(upright_cells, order)],
        index=0, size=(1800, 800), models="eng", engine="ppocr", skew=2.0,
    )  # fmt: skip
    assert page.text.splitlines() == [
        "r0c0 r0c1 r0c2", "r1c0 r1c1 r1c2", "r2c0 r2c1 r2c2", "r3c0 r3c1 r3c2"
    ]  # fmt: skip
    tilted = build_page(
        in_paragraphs(lines_of_page, reading_order(cells)),
        index=0, size=(1800, 800), models="eng", engine="ppocr",
    )  # fmt: skip
    assert tilted.text.splitlines() != page.text.splitlines()
