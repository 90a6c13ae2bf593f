"""The vlm tier: Surya 2's results mapped into our pages, and jobs run through Surya's
real client code against a stand-in inference server (see tests/fake_surya.py)."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont
from starlette.testclient import TestClient
from surya.recognition.schema import BlockOCRResult, PageOCRResult
from surya.table_rec.schema import TableResult

from ocrchat_server.app import create_app
from ocrchat_server.engines.surya import page_from_surya
from ocrchat_server.settings import Settings
from tests.documents import FONT
from tests.fake_surya import FakeBlock, FakeSurya, thousandths
from tests.live import make_accounts

API = "/api/v1/ocr/"
SIZE = (1000, 1400)


def surya_block(label: str, bbox: list[float], html: str, order: int, **extra: Any) -> Any:
    return BlockOCRResult(
        polygon=bbox, label=label, reading_order=order, html=html, confidence=0.9, **extra
    )


# --- mapping Surya's objects into ours ------------------------------------------------


def test_blocks_come_in_reading_order_with_labels_boxes_and_confidence() -> None:
    result = PageOCRResult(
        blocks=[
            surya_block("Text", [50, 300, 900, 400], "<p>Second, the body.</p>", 1),
            surya_block("SectionHeader", [50, 100, 600, 160], "<h2>Results</h2>", 0),
            surya_block("Picture", [50, 500, 900, 900], "", 2, skipped=True),
            surya_block("PageFooter", [50, 1300, 200, 1350], "<p>7</p>", 3),
        ],
        image_bbox=[0, 0, *SIZE],
    )

    page = page_from_surya(result, index=2, size=SIZE)

    assert page.index == 2
    assert [(b.label, b.text) for b in page.blocks] == [
        ("heading", "Results"),
        ("text", "Second, the body."),
        ("page_footer", "7"),
    ]
    assert page.blocks[0].bbox == (50, 100, 600, 160)
    assert page.blocks[0].confidence == 0.9
    assert page.text == "Results\n\nSecond, the body.\n\n7"
    assert (page.width, page.height) == SIZE
    assert page.engine == "surya"
    assert {block.engine for block in page.blocks} == {"surya"}


def test_markdown_keeps_headings_lists_emphasis_and_math() -> None:
    result = PageOCRResult(
        blocks=[
            surya_block("SectionHeader", [0, 0, 500, 50], "<h1>On circles</h1>", 0),
            surya_block(
                "Text",
                [0, 60, 900, 120],
                "<p>The area is <math>\\pi r^2</math>, as <b>everyone</b> knows.</p>",
                1,
            ),
            surya_block(
                "Equation",
                [0, 130, 900, 200],
                '<math display="block">A = \\pi r^2 \\cdot \\frac{a_1}{b_1}</math>',
                2,
            ),
            surya_block(
                "ListGroup",
                [0, 210, 900, 300],
                "<ul><li>first point</li><li>second point</li></ul>",
                3,
            ),
            surya_block("SectionHeader", [0, 310, 500, 350], "A plain header", 4),
        ],
        image_bbox=[0, 0, *SIZE],
    )

    page = page_from_surya(result, index=0, size=SIZE)

    assert page.markdown is not None
    parts = page.markdown.split("\n\n")
    assert parts[0] == "# On circles"
    assert parts[1] == "The area is $\\pi r^2$, as **everyone** knows."
    assert parts[2] == "$$\nA = \\pi r^2 \\cdot \\frac{a_1}{b_1}\n$$"  # LaTeX left unescaped
    assert parts[3] == "- first point\n- second point"
    assert parts[4] == "## A plain header"  # a header Surya gave no <h> still reads as one
    assert [b.label for b in page.blocks] == ["heading", "text", "formula", "list", "heading"]
    assert page.blocks[3].text == "first point\nsecond point"
    assert page.blocks[2].text == "A = \\pi r^2 \\cdot \\frac{a_1}{b_1}"


TABLE_HTML = (
    "<table><tr><th>City</th><th>Population</th><th>Area</th></tr>"
    "<tr><td>Berlin</td><td>3645000</td><td>891</td></tr>"
    '<tr><td colspan="2">Hamburg and Bremen</td><td>1080</td></tr></table>'
)


def test_tables_become_rows_markdown_tables_and_a_table_block() -> None:
    result = PageOCRResult(
        blocks=[surya_block("Table", [100, 200, 900, 500], TABLE_HTML, 0)],
        image_bbox=[0, 0, *SIZE],
    )

    page = page_from_surya(result, index=0, size=SIZE)

    (table,) = page.tables
    assert table.bbox == (100, 200, 900, 500)
    assert table.rows == [
        ["City", "Population", "Area"],
        ["Berlin", "3645000", "891"],
        ["Hamburg and Bremen", "", "1080"],  # a spanned cell keeps its text in its first place
    ]
    assert page.markdown == (
        "| City | Population | Area |\n| --- | --- | --- |\n"
        "| Berlin | 3645000 | 891 |\n| Hamburg and Bremen |  | 1080 |"
    )
    assert page.blocks[0].label == "table"
    assert page.blocks[0].text.splitlines()[1] == "Berlin\t3645000\t891"


def test_surya_table_recognition_replaces_the_page_reading_of_a_table() -> None:
    result = PageOCRResult(
        blocks=[
            surya_block("Table", [100, 200, 900, 500], "<table><tr><td>?</td></tr></table>", 0)
        ],
        image_bbox=[0, 0, *SIZE],
    )
    again = TableResult(
        rows=[], cols=[], cells=[], image_bbox=[0, 0, 800, 300], html=TABLE_HTML, mode="full"
    )

    page = page_from_surya(result, index=0, size=SIZE, tables={0: again})

    assert page.tables[0].rows[1] == ["Berlin", "3645000", "891"]


def test_boxes_outside_the_page_are_clipped() -> None:
    result = PageOCRResult(
        blocks=[surya_block("Text", [-5, 10, 1200, 1500], "<p>edge</p>", 0)],
        image_bbox=[0, 0, *SIZE],
    )
    assert page_from_surya(result, index=0, size=SIZE).blocks[0].bbox == (0, 10, 1000, 1400)


# --- jobs through the server, Surya's client and the stand-in ---------------------------


def drawn_page(lines: list[tuple[str, int]]) -> tuple[bytes, list[tuple[int, int, int, int]]]:
    """A page with text at the given heights, and each text's box in 0-1000 of the page."""
    page = Image.new("L", SIZE, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 36)
    boxes = []
    for text, top in lines:
        draw.text((80, top), text, font=font, fill=0)
        boxes.append(thousandths(draw.textbbox((80, top), text, font=font), SIZE))
    png = io.BytesIO()
    page.save(png, format="PNG")
    return png.getvalue(), boxes


@pytest.fixture
def fake_surya() -> Iterator[FakeSurya]:
    fake = FakeSurya().start()
    yield fake
    fake.stop()


@pytest.fixture
def vlm_client(tmp_path: Path, fake_surya: FakeSurya) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(data_dir=tmp_path / "data", workers=1, vlm_url=fake_surya.url)
    (token,) = make_accounts(settings, "alice")
    with TestClient(create_app(settings)) as client:
        yield client, token


def post(client: TestClient, token: str, content: bytes, **fields: str) -> Any:
    return client.post(
        API,
        headers={"Authorization": f"Bearer {token}"},
        data=fields,
        files={"file": ("page.png", content)},
    )


def test_a_vlm_job_runs_through_surya_to_done(
    vlm_client: tuple[TestClient, str], fake_surya: FakeSurya
) -> None:
    client, token = vlm_client
    png, (title_box, body_box) = drawn_page(
        [("Minutes of the meeting", 100), ("The members agreed on the budget.", 220)]
    )
    fake_surya.blocks = [
        FakeBlock("Section-Header", title_box, "<h1>Minutes of the meeting</h1>"),
        FakeBlock("Text", body_box, "<p>The members agreed on the budget.</p>"),
    ]

    response = post(client, token, png, tier="vlm", language="auto")

    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "done"
    assert job["tier"] == "vlm"
    page = job["pages"][0]
    assert [(b["label"], b["text"]) for b in page["blocks"]] == [
        ("heading", "Minutes of the meeting"),
        ("text", "The members agreed on the budget."),
    ]
    assert job["markdown"] == "# Minutes of the meeting\n\nThe members agreed on the budget."
    expected = [edge * side / 1000 for edge, side in zip(body_box, SIZE * 2, strict=True)]
    for got, wanted in zip(page["blocks"][1]["bbox"], expected, strict=True):
        assert abs(got - wanted) < 10  # back in the page's pixels
    assert job["mean_confidence"] == pytest.approx(0.95, abs=0.01)
    assert job["detected_languages"] == ["en"]
    assert fake_surya.prompts()[0].startswith("OCR this image to HTML.")
    account = client.get("/api/v1/account/", headers={"Authorization": f"Bearer {token}"})
    assert account.json()["usage"]["day"] == 3  # a vlm page costs 3 credits

    pdf = client.get(
        f"{API}{job['uuid']}/download/?format=pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_an_empty_full_page_reply_falls_back_to_layout_and_blocks(
    vlm_client: tuple[TestClient, str], fake_surya: FakeSurya
) -> None:
    client, token = vlm_client
    # enough ink that Surya does not take the page for a blank one (an empty reply then
    # is the right answer); the fake's layout has one block, over the first line
    filler = [("Read block by block, line after line of text", 100 + 45 * n) for n in range(25)]
    png, (box, *_) = drawn_page(filler)
    fake_surya.blocks = [FakeBlock("Text", box, "<p>Read block by block</p>")]
    fake_surya.empty_full_page = True
    fake_surya.confidence = 0.8

    job = post(client, token, png, tier="vlm").json()

    assert job["status"] == "done", job
    assert [(b["label"], b["text"]) for b in job["pages"][0]["blocks"]] == [
        ("text", "Read block by block")
    ]
    assert job["pages"][0]["blocks"][0]["confidence"] == pytest.approx(0.8, abs=0.01)
    kinds = [prompt.split(".")[0] for prompt in fake_surya.prompts()]
    assert kinds == [
        "OCR this image to HTML",
        "Output the layout of this image as JSON",
        "OCR this block image to HTML",
    ]


def test_extract_tables_on_vlm_uses_surya_table_recognition(
    vlm_client: tuple[TestClient, str], fake_surya: FakeSurya
) -> None:
    client, token = vlm_client
    png, (box,) = drawn_page([("City Population Area Berlin 3645000 891", 300)])
    fake_surya.blocks = [FakeBlock("Table", box, "<table><tr><td>City</td></tr></table>")]
    fake_surya.block_html = TABLE_HTML

    job = post(client, token, png, tier="vlm", tool="extract-tables").json()

    assert job["status"] == "done", job
    assert job["pages"][0]["tables"][0]["rows"][:2] == [
        ["City", "Population", "Area"],
        ["Berlin", "3645000", "891"],
    ]
    assert any(p.startswith("OCR this block image to HTML.") for p in fake_surya.prompts())
    csv = client.get(
        f"{API}{job['uuid']}/download/?format=csv", headers={"Authorization": f"Bearer {token}"}
    ).text
    assert "Berlin,3645000,891" in csv


def test_handwriting_runs_on_vlm(vlm_client: tuple[TestClient, str], fake_surya: FakeSurya) -> None:
    client, token = vlm_client
    png, (box,) = drawn_page([("dear Anna, see you soon", 200)])
    fake_surya.blocks = [FakeBlock("Text", box, "<p>dear Anna, see you soon</p>")]

    job = post(client, token, png, tier="vlm", tool="handwriting-to-text").json()
    assert job["status"] == "done"
    assert job["text"] == "dear Anna, see you soon"
    assert job["tool"] == "handwriting-to-text"


def test_vlm_requests_get_503_before_any_charge_when_its_server_is_down(
    vlm_client: tuple[TestClient, str], fake_surya: FakeSurya
) -> None:
    client, token = vlm_client
    headers = {"Authorization": f"Bearer {token}"}
    engines = {e["tier"]: e for e in client.get("/api/v1/engines/").json()["engines"]}
    assert engines["vlm"]["ready"] is True
    tools = {t["slug"]: t for t in client.get("/api/v1/tools/").json()["tools"]}
    assert tools["handwriting-to-text"]["ready"] is True

    fake_surya.stop()
    client.app.state.services.vlm._cached = None  # type: ignore[attr-defined]
    png, _ = drawn_page([("some text", 200)])

    response = post(client, token, png, tier="vlm")

    assert response.status_code == 503
    assert response.json()["code"] == "tier_unavailable"
    assert "cannot be reached" in response.json()["error"]
    assert client.get("/api/v1/account/", headers=headers).json()["usage"]["day"] == 0
    assert post(client, token, png, language="eng").json()["status"] == "done"  # cpu serves on


def test_a_vlm_server_still_loading_its_model_asks_clients_to_come_back(
    vlm_client: tuple[TestClient, str], fake_surya: FakeSurya
) -> None:
    client, token = vlm_client
    fake_surya.health = 503
    png, _ = drawn_page([("some text", 200)])

    response = post(client, token, png, tier="vlm")

    assert response.status_code == 503
    assert "loading its model" in response.json()["error"]
    assert response.headers["Retry-After"] == "30"


def test_without_a_vlm_server_the_server_says_what_to_configure(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    (token,) = make_accounts(settings, "alice")
    with TestClient(create_app(settings)) as client:
        png, _ = drawn_page([("some text", 200)])
        response = post(client, token, png, tier="vlm")
        assert response.status_code == 503
        assert "--vlm-url" in response.json()["error"]
        assert "Retry-After" not in response.headers  # nothing will change by waiting
        engines = {e["tier"]: e for e in client.get("/api/v1/engines/").json()["engines"]}
        assert engines["vlm"] == {
            "tier": "vlm",
            "engine": "surya",
            "configured": False,
            "ready": False,
            "detail": response.json()["error"],
            # every engine has the same fields; null where one does not apply
            "version": None,
            "languages": None,
            "model": None,
        }
        tools = {t["slug"]: t for t in client.get("/api/v1/tools/").json()["tools"]}
        assert tools["extract-tables"]["ready"] is True
        # handwriting still runs on the cpu tier (PP-OCRv6); the detail says what vlm lacks
        assert tools["handwriting-to-text"]["ready"] is True
        assert tools["handwriting-to-text"]["tiers"] == ["cpu", "vlm"]
        assert tools["handwriting-to-text"]["detail"].startswith("vlm: ")
        assert tools["translate"]["ready"] is False
        assert "--llm-url" in tools["translate"]["detail"]


def test_surya_starts_llama_server_itself_from_a_binary_and_model_files(tmp_path: Path) -> None:
    """The ``llama-server`` here is a script that runs the stand-in with llama-server's
    arguments; Surya's own spawning code starts it and waits for it to be healthy."""
    png, (box,) = drawn_page([("spawned by surya", 200)])
    blocks = tmp_path / "blocks.json"
    blocks.write_text(
        json.dumps([{"label": "Text", "bbox": box, "html": "<p>spawned by surya</p>"}])
    )
    binary = tmp_path / "llama-server"
    root = Path(__file__).resolve().parents[1]
    binary.write_text(f'#!/bin/sh\ncd {root}\nexec {sys.executable} -m tests.fake_surya "$@"\n')
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    model, mmproj = tmp_path / "surya-2.gguf", tmp_path / "surya-2-mmproj.gguf"
    model.write_bytes(b"GGUF")
    mmproj.write_bytes(b"GGUF")
    os.environ["FAKE_SURYA_BLOCKS"] = str(blocks)
    os.environ["FAKE_SURYA_LOG"] = str(tmp_path / "requests.jsonl")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # Surya's spawn lock and sentinel
    settings = Settings(
        data_dir=tmp_path / "data",
        workers=1,
        vlm_llama_server=binary,
        vlm_gguf=model,
        vlm_mmproj=mmproj,
    )
    (token,) = make_accounts(settings, "alice")
    try:
        with TestClient(create_app(settings)) as client:
            services = client.app.state.services  # type: ignore[attr-defined]
            for _ in range(300):
                if services.vlm.connection is not None or services.vlm._start_error:
                    break
                time.sleep(0.1)
            assert services.vlm._start_error is None
            job = post(client, token, png, tier="vlm").json()
            assert job["status"] == "done", job
            assert job["text"] == "spawned by surya"
            request = json.loads(Path(os.environ["FAKE_SURYA_LOG"]).read_text().splitlines()[0])
            assert request["model"] == "datalab-to/surya-ocr-2"
    finally:
        os.environ.pop("FAKE_SURYA_BLOCKS", None)
        os.environ.pop("FAKE_SURYA_LOG", None)
        os.environ.pop("XDG_CACHE_HOME", None)
