"""The archives' downloads (hOCR, ALTO, PAGE-XML) stream end to end: the pages are read
from the stored result a page at a time while the file is written a page at a time, and
the file is byte for byte what the whole job, loaded at once, exports. And the stored
result reads back page by page in every shape it has been written in."""

from __future__ import annotations

import io
import json
import weakref
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from ocrchat._serde import unstructure
from ocrchat.models import Block, Page, Word
from ocrchat_server.exports import EXPORTERS, ExportSource
from ocrchat_server.jobs.embedded.local_storage import LocalStorage
from ocrchat_server.jobs.records import JobRecord, JobResult
from ocrchat_server.settings import Settings
from tests.conftest import MovableClock, Server, started
from tests.documents import multipage_tiff, numbered_pdf, render_page
from tests.test_api import API, submit, wait_until_finished

STREAMED = ["hocr", "alto", "page"]
LONG = 40


@pytest.fixture(scope="module")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("streaming") / "data", workers=2)
    with started(settings, MovableClock()) as server:
        yield server


def _done(server: Server, content: bytes, name: str) -> str:
    response = submit(server, content, name, language="eng")
    assert response.status_code in (200, 202), response.text  # queued when long
    uuid: str = response.json()["uuid"]
    job = wait_until_finished(server, uuid)
    assert job["status"] == "done", job.get("error")
    return uuid


@pytest.fixture(scope="module")
def long_job(stream_server: Server) -> str:
    """A born-digital PDF of 40 pages: its words are its text layer's glyph boxes."""
    return _done(stream_server, numbered_pdf(LONG), "quarterly report.pdf")


@pytest.fixture(scope="module")
def scanned_job(stream_server: Server) -> str:
    """Two scanned frames read by Tesseract, the second lying on its side."""
    page = render_page(
        [["The archive keeps every word", "and every box of it."], ["A second paragraph."]]
    )
    return _done(stream_server, multipage_tiff([page, page.rotate(90, expand=True)]), "scan.tif")


def _record(server: Server, uuid: str) -> JobRecord:
    record = server.backend.jobs.get_job(uuid)
    assert record is not None
    return record


def _download(server: Server, uuid: str, fmt: str) -> bytes:
    response = server.client.get(
        f"{API}{uuid}/download/", params={"format": fmt}, headers=server.headers()
    )
    assert response.status_code == 200, response.text
    content: bytes = response.content
    return content


@pytest.mark.parametrize("fmt", STREAMED)
@pytest.mark.parametrize("which", ["long_job", "scanned_job"])
def test_the_streamed_download_is_the_whole_jobs_export_byte_for_byte(
    stream_server: Server, request: pytest.FixtureRequest, which: str, fmt: str
) -> None:
    """What the route streams, from pages read one at a time, is exactly what the exporter
    makes of the job loaded whole with its words (as downloads were built before)."""
    uuid: str = request.getfixturevalue(which)
    services = stream_server.client.app.state.services  # type: ignore[attr-defined]
    record = _record(stream_server, uuid)
    whole = ExportSource(
        job=services.jobs.view(record, detail="words"),
        searchable_pdf=services.backend.storage.document_pdf(uuid),
    )
    expected = EXPORTERS[fmt].export(whole)
    assert isinstance(expected, bytes)
    assert _download(stream_server, uuid, fmt) == expected
    if fmt == "page":
        with zipfile.ZipFile(io.BytesIO(expected)) as archive:
            assert len(archive.namelist()) == len(whole.job.pages or [])


class PageCounter:
    """How many pages read from storage are alive at once, at most."""

    def __init__(self) -> None:
        self.read = 0
        self.alive = 0
        self.most = 0

    def born(self, page: Page) -> None:
        self.read += 1
        self.alive += 1
        self.most = max(self.most, self.alive)
        weakref.finalize(page, self.died)

    def died(self) -> None:
        self.alive -= 1


@attrs.frozen
class CountingStorage(LocalStorage):
    """The real storage on the server's own data dir (a test-only subclass), counting the
    pages its ``iter_pages`` hands out that are still referenced by anyone."""

    counter: PageCounter = attrs.field(factory=PageCounter)

    def iter_pages(self, uuid: str, *, words: bool = False) -> Iterator[Page]:
        for page in super().iter_pages(uuid, words=words):
            self.counter.born(page)
            yield page

    def read_result(self, uuid: str, *, words: bool = False) -> JobResult:
        raise AssertionError("a streamed download read the whole result")


@pytest.mark.parametrize("fmt", STREAMED)
def test_a_streamed_download_holds_a_page_or_two_at_a_time(
    stream_server: Server, long_job: str, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real route, the 40 pages are each read (hOCR and ALTO go through them
    twice: first for the head), and never more than two are alive at once: the one being
    written and the one before it, still named by a loop until the next replaces it."""
    services = stream_server.client.app.state.services  # type: ignore[attr-defined]
    storage = CountingStorage(stream_server.settings.data_dir)
    monkeypatch.setattr(services.jobs, "storage", storage)
    assert _download(stream_server, long_job, fmt)
    passes = 1 if fmt == "page" else 2
    assert storage.counter.read == passes * LONG
    assert storage.counter.most <= 2, storage.counter.most
    assert storage.counter.alive == 0


def test_a_download_of_a_result_gone_since_the_lookup_is_not_found(stream_server: Server) -> None:
    """The job's record is there but its stored result is gone (deleted or expired a moment
    ago): 404, before a byte of the file is sent."""
    uuid = _done(stream_server, numbered_pdf(1), "gone.pdf")
    stream_server.backend.storage.delete_all(uuid)
    for fmt in STREAMED:
        response = stream_server.client.get(
            f"{API}{uuid}/download/", params={"format": fmt}, headers=stream_server.headers()
        )
        assert response.status_code == 404, response.text


# ---------------------------------------------------------------------------- stored results


def _page(index: int) -> Page:
    word = Word(text=f"word{index}", bbox=(10, 10, 90, 40), confidence=0.9)
    block = Block(text=f"word{index}", bbox=(10, 10, 90, 40), confidence=0.9, words=[word])
    return Page(index=index, text=f"word{index}", blocks=[block], width=100, height=50)


def _result(pages: list[Page]) -> JobResult:
    return JobResult(
        pages=pages,
        text="\f".join(page.text for page in pages),
        markdown="\n\n".join(page.text for page in pages),
        mean_confidence=0.9 if pages else None,
        detected_languages=["eng"],
    )


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "data")
    storage.create_dirs()
    storage.prepare_results("job")
    return storage


def _header_of(result: JobResult) -> JobResult:
    return attrs.evolve(result, pages=[], text="", markdown="")


def _reads_back(storage: LocalStorage, result: JobResult) -> None:
    assert storage.read_result("job", words=True) == result
    bare = [
        attrs.evolve(page, blocks=[attrs.evolve(b, words=None) for b in page.blocks])
        for page in result.pages
    ]
    assert storage.read_result("job") == attrs.evolve(result, pages=bare)
    assert list(storage.iter_pages("job", words=True)) == result.pages
    assert list(storage.iter_pages("job")) == bare
    assert storage.read_header("job") == _header_of(result)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_stored_result_reads_back_whole_page_by_page_and_as_its_header(
    storage: LocalStorage, count: int
) -> None:
    """No pages (a job.json of none read wrong before), one, several."""
    result = _result([_page(i) for i in range(count)])
    storage.write_result("job", result)
    _reads_back(storage, result)


def _fields(result: JobResult) -> dict[str, Any]:
    fields: dict[str, Any] = unstructure(result)
    del fields["pages"]
    return fields


@pytest.mark.parametrize("count", [0, 1, 3])
def test_results_stored_by_earlier_servers_still_read(storage: LocalStorage, count: int) -> None:
    """Older servers wrote job.json whole (one JSON object), then with the pages first, a
    line each, and every other field after them (with an empty line for no pages)."""
    result = _result([_page(i) for i in range(count)])
    path = storage.job_result("job")
    path.write_text(json.dumps(unstructure(result)))
    _reads_back(storage, result)
    pages = ",\n".join(json.dumps(unstructure(page)) for page in result.pages)
    rest = json.dumps(_fields(result))[1:]
    path.write_text('{"pages":[\n' + pages + "\n]," + rest)
    _reads_back(storage, result)


def test_the_header_and_the_pages_are_read_without_the_texts(storage: LocalStorage) -> None:
    """The small fields come first in job.json and the texts last, after a line closing
    the pages: the header is its first line, and the pages stop at that line. (The texts
    grow with the document: a 300-page job's run to a megabyte.)"""
    result = _result([_page(i) for i in range(3)])
    storage.write_result("job", result)
    path = storage.job_result("job")
    first, *pages, closing, texts = path.read_text().splitlines()
    assert first.endswith('"pages":[')
    assert '"text"' not in first
    assert '"detected_languages":["eng"]' in first
    assert len(pages) == 3
    assert closing == "]"
    assert texts.startswith(',"text":')
    # cut the file where each reader must have stopped: it reads the same
    path.write_text(first + "\n")
    assert storage.read_header("job") == _header_of(result)
    path.write_text("\n".join([first, *pages, closing]) + "\n")
    assert list(storage.iter_pages("job", words=True)) == result.pages


def test_a_gone_result_raises_file_not_found(storage: LocalStorage) -> None:
    with pytest.raises(FileNotFoundError):
        storage.read_header("gone")
    pages = storage.iter_pages("gone")
    with pytest.raises(FileNotFoundError):
        next(pages)
