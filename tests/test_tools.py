"""The tools on the cpu tier: extract-tables on rendered tables, translate through a
stand-in language model (tests/fake_llm.py)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from PIL import Image, ImageDraw, ImageFont
from starlette.testclient import TestClient

from ocrchat_server.app import create_app
from ocrchat_server.settings import Settings
from tests.conftest import Server
from tests.documents import FONT
from tests.fake_llm import FakeLLM, Scripted
from tests.live import make_accounts
from tests.test_api import submit

API = "/api/v1/ocr/"
CITIES = [
    ["City", "Population", "Area"],
    ["Berlin", "3645000", "891"],
    ["Hamburg", "1841000", "755"],
    ["Munich", "1472000", "310"],
]


def table_page(rows: list[list[str]], *, ruled: bool) -> bytes:
    """An A4-wide page: a title line, then the rows as a grid (with rules, or without)."""
    page = Image.new("L", (1654, 1169), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 36)
    left, top, column, row_height = 150, 200, 380, 80
    draw.text((left, 100), "Cities of Germany", font=font, fill=0)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            draw.text((left + c * column + 20, top + r * row_height + 20), cell, font=font, fill=0)
    if ruled:
        right, bottom = left + len(rows[0]) * column, top + len(rows) * row_height
        for r in range(len(rows) + 1):
            y = top + r * row_height
            draw.line([(left, y), (right, y)], fill=0, width=3)
        for c in range(len(rows[0]) + 1):
            x = left + c * column
            draw.line([(x, top), (x, bottom)], fill=0, width=3)
    png = io.BytesIO()
    page.save(png, format="PNG", dpi=(150, 150))
    return png.getvalue()


def download(server: Server, uuid: str, fmt: str) -> bytes:
    response = server.client.get(f"{API}{uuid}/download/?format={fmt}", headers=server.headers())
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


@pytest.mark.parametrize("ruled", [True, False], ids=["ruled", "unruled"])
def test_extract_tables_returns_the_cells_in_every_table_aware_format(
    server: Server, ruled: bool
) -> None:
    response = submit(server, table_page(CITIES, ruled=ruled), tool="extract-tables")

    job = response.json()
    assert job["status"] == "done", job
    (table,) = job["pages"][0]["tables"]
    assert table["rows"] == CITIES
    x0, y0, x1, y1 = table["bbox"]
    assert x0 <= 175  # around the cells
    assert y0 <= 230
    assert x1 >= 1000
    assert y1 >= 490
    markdown = job["markdown"]
    assert markdown.startswith("Cities of Germany\n\n| City | Population | Area |\n| --- |")
    assert "| Munich | 1472000 | 310 |" in markdown
    assert "Munich 1472000" not in markdown  # the table stands in for its lines

    rows = list(csv.reader(io.StringIO(download(server, job["uuid"], "csv").decode())))
    assert rows[-4:] == CITIES
    book = openpyxl.load_workbook(io.BytesIO(download(server, job["uuid"], "xlsx")))
    sheet = book.worksheets[0]
    values = [[str(v) for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]
    assert values[-4:] == CITIES
    document = docx.Document(io.BytesIO(download(server, job["uuid"], "docx")))
    (word_table,) = document.tables
    assert [[cell.text for cell in row.cells] for row in word_table.rows] == CITIES


def test_without_the_tool_no_tables_are_looked_for(server: Server) -> None:
    job = submit(server, table_page(CITIES, ruled=False), language="eng").json()
    assert job["pages"][0]["tables"] == []


# --- translate -----------------------------------------------------------------------


@pytest.fixture
def translating(tmp_path: Path) -> Iterator[tuple[TestClient, FakeLLM, dict[str, str]]]:
    with FakeLLM() as llm:
        settings = Settings(
            data_dir=tmp_path / "data", workers=1, llm_url=llm.url, llm_model="translator"
        )
        (token,) = make_accounts(settings, "alice")
        with TestClient(create_app(settings)) as client:
            yield client, llm, {"Authorization": f"Bearer {token}"}


def post(client: TestClient, headers: dict[str, str], content: bytes, **fields: str) -> Any:
    return client.post(API, headers=headers, data=fields, files={"file": ("p.png", content)})


def test_translate_keeps_the_original_and_downloads_use_the_translation(
    translating: tuple[TestClient, FakeLLM, dict[str, str]],
) -> None:
    client, llm, headers = translating
    llm.next = Scripted(
        content="Städte Deutschlands\n\n| Stadt | Einwohner | Fläche |\n| --- | --- | --- |\n"
        "| Berlin | 3645000 | 891 |"
    )

    job = post(
        client,
        headers,
        table_page(CITIES[:2], ruled=False),
        language="eng",
        tool="translate",
        translate_to="de",
    ).json()

    assert job["status"] == "done", job
    assert job["translated_to"] == "de"
    assert job["text"] == "Städte Deutschlands\n\nStadt\tEinwohner\tFläche\nBerlin\t3645000\t891"
    assert job["markdown"].startswith("Städte Deutschlands\n\n| Stadt |")
    assert job["original_text"].startswith("Cities of Germany")
    assert job["original_markdown"].startswith("Cities of Germany")
    page = job["pages"][0]
    assert page["original_text"] == job["original_text"]
    request = llm.requests[-1]
    assert request["model"] == "translator"
    assert "into German" in request["messages"][0]["content"]
    assert request["messages"][1]["content"] == job["original_markdown"]

    text = client.get(f"{API}{job['uuid']}/download/?format=txt", headers=headers).text
    assert text.startswith("Städte Deutschlands")
    stored = client.get(f"{API}{job['uuid']}/download/?format=json", headers=headers).json()
    assert stored["original_text"] == job["original_text"]
    pdf = client.get(f"{API}{job['uuid']}/download/?format=pdf", headers=headers).content
    printed = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Städte Deutschlands" in printed
    assert "Cities" not in printed


def test_a_failing_translator_fails_the_job_and_refunds_it(
    translating: tuple[TestClient, FakeLLM, dict[str, str]],
) -> None:
    client, llm, headers = translating
    llm.next = Scripted(status=500)

    job = post(
        client, headers, table_page(CITIES, ruled=False), tool="translate", translate_to="fr"
    ).json()

    assert job["status"] == "failed"
    assert job["error"] == "The translation failed: The language model endpoint answered 500."
    usage = client.get("/api/v1/account/", headers=headers).json()["usage"]
    assert usage["day"] == 0


def test_translate_requests_are_checked_before_any_charge(server: Server) -> None:
    page = table_page(CITIES, ruled=False)
    for fields, code, words in [
        ({"tool": "translate", "translate_to": "de"}, "translator_not_configured", "--llm-url"),
        ({"tool": "translate"}, "missing_translate_to", "translate_to"),
        ({"translate_to": "de"}, "translate_to_without_tool", "tool=translate"),
    ]:
        response = submit(server, page, **fields)
        assert response.status_code == 400
        assert response.json()["code"] == code
        assert words in response.json()["error"]
    account = server.client.get("/api/v1/account/", headers=server.headers()).json()
    assert account["usage"]["day"] == 0


def test_an_unknown_target_language_is_named(
    translating: tuple[TestClient, FakeLLM, dict[str, str]],
) -> None:
    client, llm, headers = translating
    response = post(
        client, headers, table_page(CITIES, ruled=False), tool="translate", translate_to="klingon"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_language"
    assert "klingon" in response.json()["error"]
    assert llm.requests == []
    assert json.loads(response.text)["language"] == "klingon"
