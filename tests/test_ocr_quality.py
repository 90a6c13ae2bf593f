"""OCR through the server against the Tesseract command line and third-party ground truth.

Scans from ../shared/corpus (EHRI Dataset, F. Chiffoleau et al., European
Holocaust Research Infrastructure, https://github.com/FloChiff/ehri-dataset,
CC BY 4.0).
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from PIL import Image

from tests.conftest import Server
from tests.documents import CORPUS, corpus_scorer, render_page
from tests.test_api import submit

CLEAN_PAGE = CORPUS / "data" / "en_ehri_typed_dr19390519_03.jpg"
GERMAN_PAGE = CORPUS / "data" / "de_ehri_typed_wl1375b189_02.jpg"


def cer(reference: str, hypothesis: str) -> float:
    scores = corpus_scorer().score_pair(reference, hypothesis)
    return float(scores["char_edits"] / scores["ref_chars"])


def tesseract_cli(path: Path, language: str) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(
        ["tesseract", str(path), "-", "-l", language],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout


def words(text: str) -> list[str]:
    return text.split()


def test_server_text_equals_the_tesseract_command_line(server: Server) -> None:
    for page, language in ((CLEAN_PAGE, "eng"), (GERMAN_PAGE, "deu")):
        job = submit(server, page.read_bytes(), page.name, language=language).json()
        assert job["status"] == "done"
        assert words(job["text"]) == words(tesseract_cli(page, language)), page.name


def test_an_upside_down_scan_comes_back_readable(server: Server) -> None:
    reference = (CORPUS / "data" / "en_ehri_typed_dr19390519_03.gt.txt").read_text()
    with Image.open(CLEAN_PAGE) as upright:
        dpi = upright.info["dpi"]
        flipped = upright.rotate(180)
    buffer = io.BytesIO()
    flipped.save(buffer, format="PNG", dpi=dpi)

    job = submit(server, buffer.getvalue(), "upside-down.png").json()  # language=auto

    page = job["pages"][0]
    assert page["rotation"] == 180
    # plain Tesseract on the upright page scores CER 0.014 (corpus baseline)
    assert cer(reference, job["text"]) < 0.03
    first = page["blocks"][0]
    assert first["bbox"][1] < page["height"] / 4  # boxes are on the turned-upright page


def test_a_sideways_page_is_turned_upright(server: Server) -> None:
    reference = (CORPUS / "data" / "en_ehri_typed_dr19390519_03.gt.txt").read_text()
    with Image.open(CLEAN_PAGE) as upright:
        dpi = upright.info["dpi"]
        sideways = upright.rotate(90, expand=True)  # counter-clockwise
    buffer = io.BytesIO()
    sideways.save(buffer, format="PNG", dpi=dpi)

    page = submit(server, buffer.getvalue()).json()["pages"][0]

    assert page["rotation"] == 90
    assert (page["width"], page["height"]) == (sideways.height, sideways.width)
    assert cer(reference, page["text"]) < 0.03


def test_auto_reads_the_script_it_finds(server: Server) -> None:
    russian = ["Съешь же ещё этих мягких французских булок,", "да выпей чаю. Москва зимой."]
    greek = ["Η γρήγορη καφέ αλεπού πηδά πάνω", "από τον τεμπέλη σκύλο στην αυλή."]
    for lines, model in ((russian, "Cyrillic"), (greek, "Greek")):
        png = io.BytesIO()
        render_page([lines], font_size=48).save(png, format="PNG")
        job = submit(server, png.getvalue()).json()
        page = job["pages"][0]
        assert page["language"] == model
        assert cer("\n".join(lines), page["text"]) < 0.05, page["text"]


def test_markdown_keeps_paragraphs_and_headings(server: Server) -> None:
    page = render_page(
        [
            ["The first paragraph starts here and", "it goes on over a second line."],
            ["A second paragraph follows after a gap."],
            ["• a bulleted point of the list"],
        ],
        heading="Annual Summary",
    )
    png = io.BytesIO()
    page.save(png, format="PNG")
    job = submit(server, png.getvalue(), language="eng").json()
    markdown = job["markdown"]

    assert markdown.startswith("# Annual Summary\n\n")
    assert "The first paragraph starts here and it goes on over a second line." in markdown
    assert "\n\nA second paragraph follows after a gap.\n\n" in markdown
    assert "- a bulleted point of the list" in markdown
    assert "\n\n" in job["text"]  # paragraphs kept in the plain text too
