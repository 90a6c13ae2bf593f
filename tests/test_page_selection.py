"""The submit's ``pages`` field: only the selected pages are read and charged, each keeps
its index in the file, and a bad range is refused before anything is charged. In both
modes: the scale-out queue hands out the selected pages by position."""

from __future__ import annotations

import io
from typing import Any

import pypdfium2
import pytest

from tests.conftest import Server
from tests.documents import numbered_pdf
from tests.test_api import API, assert_error, submit, wait_until_finished


@pytest.fixture
def server(any_server: Server) -> Server:
    return any_server


def _usage(server: Server) -> int:
    account = server.client.get("/api/v1/account/", headers=server.headers()).json()
    day: int = account["usage"]["day"]
    return day


def _pdf_page_texts(content: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(io.BytesIO(content))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def test_only_the_selected_pages_are_read_and_charged(server: Server) -> None:
    before = _usage(server)
    response = submit(server, numbered_pdf(8), "report.pdf", pages="2-3, 7")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()

    assert job["status"] == "done"
    assert job["page_count"] == 8  # the file's, as without a selection
    assert job["page_selection"] == "2-3,7"
    assert job["progress"] == {"pages_done": 3, "pages_total": 3}
    assert [page["index"] for page in job["pages"]] == [1, 2, 6]
    for page in job["pages"]:
        assert f"Page {page['index'] + 1} of the quarterly report" in page["text"]
    assert "Page 1 of" not in job["text"]
    assert _usage(server) == before + 3

    pdf = server.client.get(
        f"{API}{job['uuid']}/download/", params={"format": "pdf"}, headers=server.headers()
    )
    texts = _pdf_page_texts(pdf.content)
    assert len(texts) == 3
    assert "Page 7 of the quarterly report" in texts[2]


def test_a_queued_selection_reads_its_pages_in_order(server: Server) -> None:
    before = _usage(server)
    response = submit(server, numbered_pdf(9), "report.pdf", pages="3-")
    assert response.status_code == 202, response.text
    assert response.json()["progress"]["pages_total"] == 7

    done = wait_until_finished(server, response.json()["uuid"])
    assert done["status"] == "done", done
    assert done["page_selection"] == "3-9"
    assert [page["index"] for page in done["pages"]] == list(range(2, 9))
    assert done["text"].index("Page 3 of") < done["text"].index("Page 9 of")
    assert _usage(server) == before + 7


def test_a_selection_of_every_page_is_no_selection(server: Server) -> None:
    job = submit(server, numbered_pdf(2), "report.pdf", pages="2,1").json()
    assert job["page_selection"] is None
    assert [page["index"] for page in job["pages"]] == [0, 1]


@pytest.mark.parametrize(
    ("pages", "code"),
    [
        ("0", "invalid_pages"),
        ("3-1", "invalid_pages"),
        ("1,,2", "invalid_pages"),
        ("first", "invalid_pages"),
        ("-2", "invalid_pages"),
        ("1-3" * 400, "invalid_pages"),
        ("4", "pages_out_of_range"),
        ("2-9", "pages_out_of_range"),
    ],
)
def test_bad_ranges_are_refused_and_cost_nothing(server: Server, pages: str, code: str) -> None:
    before = _usage(server)
    body = assert_error(submit(server, numbered_pdf(3), "report.pdf", pages=pages), 400, code)
    assert body["page_count"] == 3
    assert _usage(server) == before
    # the server goes on serving
    assert submit(server, numbered_pdf(3), "report.pdf", pages="1").json()["status"] == "done"
