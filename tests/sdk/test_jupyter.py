"""How jobs, pages, tables, answers and histories show in Jupyter, and tables as pandas
DataFrames: on real jobs of a real server (uvicorn, the session's ``live`` fixture).

Hostile text comes from a PDF's own text layer, which the server reads exactly: what
a page says reaches the HTML as text, never as markup.
"""

from __future__ import annotations

import base64
import html
import io
import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser

import attrs
import pandas as pd
import pytest
from PIL import Image

import ocrchat
from tests.conftest import Live
from tests.documents import image_bytes, text_pdf
from tests.sdk.test_client import PAGE
from tests.test_tools import CITIES, table_page

HOSTILE = '<script>alert("one")</script> Tom & Jerry'
FILENAME = "<img src=x onerror=alert(1)>.pdf"


@pytest.fixture(scope="module")
def client(live: Live) -> Iterator[ocrchat.Client]:
    with ocrchat.Client(live.alice, base_url=live.url) as client:
        yield client


@pytest.fixture(scope="module")
def three_pages(client: ocrchat.Client) -> ocrchat.Job:
    """Three pages of real PDF text (read from the text layer, in the request)."""
    pdf = text_pdf([[HOSTILE, "Second line"], ["Page two <b>bold</b>"], ["Page three"]])
    return client.ocr((FILENAME, pdf))


@pytest.fixture(scope="module")
def invoice(client: ocrchat.Client) -> ocrchat.Job:
    return client.ocr(image_bytes(PAGE, "PNG"), language="eng")


@pytest.fixture(scope="module")
def cities(client: ocrchat.Client) -> ocrchat.Job:
    return client.ocr(table_page(CITIES, ruled=True), tool="extract-tables", language="eng")


class Tree(HTMLParser):
    """Each piece of text in an HTML document with the tags it is inside."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.open: list[str] = []
        self.texts: list[tuple[str, tuple[str, ...]]] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append((data, tuple(self.open)))

    def inside(self, text: str) -> tuple[str, ...]:
        """The tags around the first piece of text holding ``text``."""
        return next(tags for data, tags in self.texts if text in data)


def test_a_job_is_a_summary_table_then_its_pages_the_later_ones_folded(
    three_pages: ocrchat.Job,
) -> None:
    job = three_pages
    assert job.pages is not None
    assert HOSTILE in job.pages[0].text  # the page really says it

    shown = job._repr_html_()

    assert "<script" not in shown
    assert "<img" not in shown
    for page in job.pages:  # its Markdown as text (with the Markdown's own backslashes)
        assert page.markdown is not None
        assert html.escape(page.markdown) in shown
    tree = Tree(shown)  # well formed: every tag closed where it was opened
    assert tree.inside(job.uuid) == ("div", "table", "tbody", "tr", "td", "code")
    assert tree.inside("done")[-1] == "b"
    assert ("file", ("div", "table", "tbody", "tr", "th")) in tree.texts
    assert any(data == job.filename for data, _ in tree.texts)  # escaped, read back as text
    assert "details" not in tree.inside("Tom & Jerry")  # the first page is open
    assert "details" in tree.inside("Page two")  # the others are folded
    assert "details" in tree.inside("Page three")
    assert shown.count("<details>") == 2
    assert re.search(r"<summary><b>Page 2</b> · 1 block", shown)


def test_a_job_not_done_yet_shows_its_progress(client: ocrchat.Client) -> None:
    pending = client.submit(text_pdf([[f"Page {n}"] for n in range(1, 8)]))
    assert pending.status in (ocrchat.JobStatus.PENDING, ocrchat.JobStatus.PROCESSING)
    shown = pending._repr_html_()
    assert re.search(r"\d/7 pages read", shown)
    assert f"<b>{pending.status.value}</b>" in shown
    assert "<details>" not in shown


def test_show_puts_each_page_image_with_its_boxes_beside_its_text(invoice: ocrchat.Job) -> None:
    assert "<img" not in invoice._repr_html_()  # no images given, none shown

    shown = invoice.show(PAGE, size=300)._repr_html_()

    (encoded,) = re.findall(r'src="data:image/png;base64,([^"]+)"', shown)
    thumbnail = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")
    assert max(thumbnail.size) == 300
    assert thumbnail.size == (300, round(300 * PAGE.height / PAGE.width))
    colors = {color for _, color in thumbnail.getcolors(1 << 20) or []}
    assert (255, 0, 0) in colors  # its boxes
    assert "Acme Corporation" in shown  # beside its text
    assert invoice.show([PAGE])._repr_html_() == invoice.show({0: PAGE})._repr_html_()
    with pytest.raises(ValueError, match="2 images for the 1 pages"):
        invoice.show([PAGE, PAGE])
    with pytest.raises(ValueError, match="no page with index 3"):
        invoice.show({3: PAGE})


def test_a_page_shows_its_facts_and_its_text_folded(three_pages: ocrchat.Job) -> None:
    assert three_pages.pages is not None
    shown = three_pages.pages[0]._repr_html_()
    tree = Tree(shown)
    assert "<script" not in shown
    assert "details" in tree.inside("Tom & Jerry")
    assert ("text_layer", ("div", "table", "tbody", "tr", "td")) in tree.texts
    assert "<summary>Text (" in shown
    size = f"{three_pages.pages[0].width}×{three_pages.pages[0].height} px"
    assert (size, ("div", "table", "tbody", "tr", "td")) in tree.texts


def test_a_reply_shows_its_answer_and_citations_and_a_history_its_conversations(
    client: ocrchat.Client, three_pages: ocrchat.Job
) -> None:
    # no language model on this server: the answer quotes the best lines
    reply = client.chat(three_pages, "What does Tom & Jerry <b>say</b>?")
    assert reply.message.citations
    assert HOSTILE in reply.message.content

    shown = reply._repr_html_()

    assert "<script" not in shown
    assert "<b>say</b>" not in shown
    tree = Tree(shown)
    assert any(HOSTILE in data for data, _ in tree.texts)  # as text
    for citation in reply.message.citations:
        assert f"<li>p. {citation.page}: “{html.escape(citation.snippet)}”</li>" in shown
    assert reply.conversation in shown

    again = client.chat(three_pages, "And page three?", conversation=reply.conversation)
    other = client.chat(three_pages, "What is on page two?")
    history = client.history(three_pages)._repr_html_()
    assert "<script" not in history
    assert "<b>say</b>" not in history
    tree = Tree(history)
    assert "What does Tom &amp; Jerry &lt;b&gt;say&lt;/b&gt;?" in history
    assert history.count("<details") == 2  # one per conversation
    assert history.count("<details open>") == 1  # the latest unfolded
    assert "4 messages" in history
    assert again.message.content in {data for data, _ in tree.texts}
    assert other.conversation in history
    assert ocrchat.History()._repr_html_().endswith("No conversations yet.</div>")


def test_a_table_as_a_dataframe_its_first_row_the_header(cities: ocrchat.Job) -> None:
    ((page, table),) = cities.tables()
    assert page == 0
    assert table.rows == CITIES

    frame = table.to_pandas()

    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["City", "Population", "Area"]
    assert frame.shape == (3, 3)
    assert frame.loc[2, "City"] == "Munich"
    assert pd.to_numeric(frame["Population"]).sum() == 3645000 + 1841000 + 1472000
    raw = table.to_pandas(header=False)
    assert raw.shape == (4, 3)
    assert raw.columns.equals(pd.RangeIndex(3))  # numbered from 0
    assert raw.iloc[0].tolist() == CITIES[0]
    shown = table._repr_html_()
    assert re.search(r"<th[^>]*>Population</th>", shown)
    assert re.search(r"<td[^>]*>Hamburg</td>", shown)


def test_header_names_are_made_unique_and_short_rows_padded(cities: ocrchat.Job) -> None:
    ((_, table),) = cities.tables()
    _, berlin, *rest = table.rows
    odd = attrs.evolve(table, rows=[[" City ", " ", "City"], berlin[:2], *rest])

    frame = odd.to_pandas()

    assert list(frame.columns) == ["City", "column_2", "City.1"]
    assert frame.iloc[0].tolist() == ["Berlin", "3645000", ""]
    assert attrs.evolve(table, rows=[]).to_pandas().shape == (0, 0)


def test_every_table_of_a_job_in_one_long_frame(
    cities: ocrchat.Job, three_pages: ocrchat.Job
) -> None:
    cells = cities.tables_frame()

    assert list(cells.columns) == ["page", "table", "row", "column", "text"]
    assert len(cells) == 12  # one row per cell, the header's too
    assert {str(cells[name].dtype) for name in ("page", "table", "row", "column")} == {"int64"}
    berlin = cells[(cells.row == 1) & (cells.column == 0)]
    assert berlin.text.tolist() == ["Berlin"]
    wide = cells[cells.table == 0].pivot(index="row", columns="column", values="text")
    assert wide.values.tolist() == CITIES
    empty = three_pages.tables_frame()  # no tables looked for
    assert three_pages.tables() == []
    assert list(empty.columns) == ["page", "table", "row", "column", "text"]
    assert len(empty) == 0


def test_without_pandas_the_error_says_what_to_install(
    cities: ocrchat.Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    ((_, table),) = cities.tables()
    with pytest.raises(ImportError, match=r"pip install 'ocrchat\[pandas\]'"):
        table.to_pandas()
    with pytest.raises(ImportError, match=r"pip install 'ocrchat\[pandas\]'"):
        cities.tables_frame()
