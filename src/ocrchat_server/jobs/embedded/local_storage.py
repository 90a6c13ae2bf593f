"""The embedded mode's result storage: a job's files under the data dir.

    uploads/<uuid>                  the uploaded bytes, until the job ends
    results/<uuid>/pdf/NNNNN.pdf    one page of the searchable PDF, written by a worker
    results/<uuid>/pages/NNNNN.json one page's result, written by a worker after its PDF
    results/<uuid>/job.json         the finished job's result: on its first line the
                                    fields that stay small (mean confidence, languages),
                                    then its pages (a line each, words and all), a line
                                    closing them, then its text and Markdown
    results/<uuid>/document.pdf     the finished job's searchable PDF

Every write is to a temporary name then renamed, so a crash never leaves a
half-written result that a restart would trust. This layout is this class's
own: everything else asks it for a job's files by what they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import attrs

from ocrchat._serde import structure, unstructure
from ocrchat.models import Page
from ocrchat_server.jobs.json_files import atomic_text_file, dump_json, read_json
from ocrchat_server.jobs.records import JobResult, disk_full_raises_storage_full, without_words

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_COPY_CHUNK = 1024 * 1024
_PAGES_KEY = '"pages":[\n'
"""How ``job.json``'s first line ends: its pages follow, one per line (JSON all the same)."""
_TEXTS = ("text", "markdown", "original_text", "original_markdown")
"""The result's fields that grow with the document: ``job.json`` keeps them after its
pages and the others before, so that those are read without them (or the pages)."""


def _put_words(page: dict[str, Any], words: list[Any] | None) -> None:
    """A page's JSON with its blocks' words (``words``: each block's, as JSON, in order),
    where they are the page's blocks'."""
    blocks = page.get("blocks") or []
    if words is not None and len(words) == len(blocks):
        for block, block_words in zip(blocks, words, strict=True):
            block["words"] = block_words


def _fields_before_pages(line: str) -> dict[str, Any] | None:
    """The result's fields on ``job.json``'s first line, before its pages; None for a file
    written whole, before pages had lines of their own. (A file written before those
    fields came first starts ``{"pages":[``: it has none there.)"""
    if not (line.startswith("{") and line.endswith(_PAGES_KEY)):
        return None
    fields: dict[str, Any] = json.loads(line.removesuffix(_PAGES_KEY).rstrip(",") + "}")
    return fields


def _fields_after_pages(line: str, file: TextIO) -> dict[str, Any]:
    """The result's fields after its pages: on the line closing them (``line``), where a
    server before them wrote them, else on the next."""
    rest = line[1:].strip() or file.readline()
    fields: dict[str, Any] = json.loads("{" + rest.lstrip(","))
    return fields


def _page(line: str, *, words: bool) -> Page:
    page = json.loads(line.rstrip(",\n"))
    return structure(page if words else without_words(page), Page)


def _header(fields: dict[str, Any]) -> JobResult:
    """A result of ``fields`` without its pages and texts (``""``, or None where optional)."""
    small = {key: value for key, value in fields.items() if key not in {"pages", *_TEXTS}}
    return structure({"pages": [], "text": "", "markdown": "", **small}, JobResult)


@attrs.frozen
class LocalStorage:
    data_dir: Path

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    def create_dirs(self) -> None:
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        self.results_dir.mkdir(parents=True, exist_ok=True)

    def upload(self, uuid: str) -> Path:
        return self.uploads_dir / uuid

    def save_upload(self, uuid: str, source: BinaryIO) -> int:
        size = 0
        try:
            with disk_full_raises_storage_full(), self.upload(uuid).open("wb") as out:
                while chunk := source.read(_COPY_CHUNK):
                    out.write(chunk)
                    size += len(chunk)
        except BaseException:
            self.delete_upload(uuid)
            raise
        return size

    def has_upload(self, uuid: str) -> bool:
        return self.upload(uuid).exists()

    def uploads_held(self) -> list[str]:
        return sorted(path.name for path in self.uploads_dir.iterdir() if path.is_file())

    def result_dir(self, uuid: str) -> Path:
        return self.results_dir / uuid

    def pages_dir(self, uuid: str) -> Path:
        return self.result_dir(uuid) / "pages"

    def page_result(self, uuid: str, index: int) -> Path:
        return self.pages_dir(uuid) / f"{index:05d}.json"

    def job_result(self, uuid: str) -> Path:
        return self.result_dir(uuid) / "job.json"

    def page_pdfs_dir(self, uuid: str) -> Path:
        return self.result_dir(uuid) / "pdf"

    def page_pdf(self, uuid: str, index: int) -> Path:
        return self.page_pdfs_dir(uuid) / f"{index:05d}.pdf"

    def page_words(self, uuid: str, index: int) -> Path:
        """An OCRed page of a PDF upload: its words, grafted onto the upload's own page."""
        return self.page_pdfs_dir(uuid) / f"{index:05d}.words.json"

    def work_file(self, uuid: str, name: str) -> Path:
        return self.page_pdfs_dir(uuid) / name

    def document_pdf(self, uuid: str) -> Path:
        return self.result_dir(uuid) / "document.pdf"

    def write_result(
        self,
        uuid: str,
        result: JobResult,
        *,
        words: Callable[[int], list[Any] | None] | None = None,
    ) -> None:
        # the pages are written one at a time: a long document's pages as objects and
        # as one JSON tree at once held some 60 MB of the server. Each on a line of its
        # own, so that a reader takes them one at a time too; the small fields before
        # them, so that a reader gets those without reading on (a streamed download)
        fields = unstructure(attrs.evolve(result, pages=[]))
        del fields["pages"]
        texts = {key: fields.pop(key) for key in _TEXTS}
        with disk_full_raises_storage_full(), atomic_text_file(self.job_result(uuid)) as file:
            file.write("{")
            for key, value in fields.items():
                dump_json(key, file)
                file.write(":")
                dump_json(value, file)
                file.write(",")
            file.write(_PAGES_KEY)
            for number, page in enumerate(result.pages):
                if number:
                    file.write(",\n")
                data = unstructure(page)
                if words is not None:
                    _put_words(data, words(page.index))
                dump_json(data, file)
            # the pages' end on a line of its own: a reader of pages stops there, before
            # the texts (a long document's run to a megabyte)
            file.write("\n]\n" if result.pages else "]\n")
            for key, value in texts.items():
                file.write(",")
                dump_json(key, file)
                file.write(":")
                dump_json(value, file)
            file.write("}")

    def read_result(self, uuid: str, *, words: bool = False) -> JobResult:
        fields: dict[str, Any] = {}
        pages = list(self._read_pages(uuid, words=words, fields=fields))
        return attrs.evolve(structure({**fields, "pages": []}, JobResult), pages=pages)

    def read_header(self, uuid: str) -> JobResult:
        path = self.job_result(uuid)
        with path.open(encoding="utf-8") as file:
            fields = _fields_before_pages(file.readline())
            if fields:
                return _header(fields)
            if fields is not None:  # written before the small fields came first: at the end
                for line in file:
                    if line.startswith("]"):
                        return _header(_fields_after_pages(line, file))
                raise ValueError(f"{path} ends before its pages do")
        return _header(read_json(path))  # written whole

    def iter_pages(self, uuid: str, *, words: bool = False) -> Iterator[Page]:
        return self._read_pages(uuid, words=words)

    def _read_pages(
        self, uuid: str, *, words: bool, fields: dict[str, Any] | None = None
    ) -> Iterator[Page]:
        """The stored pages, each read as it is asked for. ``fields``, where given, gets
        the result's other fields: once the pages are read, all of them."""
        path = self.job_result(uuid)
        with path.open(encoding="utf-8") as file:
            before = _fields_before_pages(file.readline())
            if before is None:  # written whole, before pages had lines of their own
                data = read_json(path)
                pages = data.pop("pages")
                if fields is not None:
                    fields.update(data)
                for page in pages:
                    yield structure(page if words else without_words(page), Page)
                return
            for line in file:
                if line.startswith("]"):  # the pages are done: the texts follow
                    if fields is not None:
                        fields.update(before)
                        fields.update(_fields_after_pages(line, file))
                    return
                if line.strip():  # a job of no pages had an empty line for them
                    yield _page(line, words=words)
        raise ValueError(f"{path} ends before its pages do")

    def has_results(self, uuid: str) -> bool:
        return self.result_dir(uuid).exists()

    def prepare_results(self, uuid: str) -> None:
        self.pages_dir(uuid).mkdir(parents=True, exist_ok=True)
        self.page_pdfs_dir(uuid).mkdir(parents=True, exist_ok=True)

    def finished_pages(self, uuid: str) -> set[int]:
        """Pages whose result is on disk (a restart does not read them again)."""
        directory = self.pages_dir(uuid)
        if not directory.is_dir():
            return set()
        return {int(path.stem) for path in directory.glob("[0-9]*.json")}

    def delete_upload(self, uuid: str) -> None:
        self.upload(uuid).unlink(missing_ok=True)

    def delete_page_results(self, uuid: str) -> None:
        shutil.rmtree(self.pages_dir(uuid), ignore_errors=True)
        shutil.rmtree(self.page_pdfs_dir(uuid), ignore_errors=True)

    def delete_all(self, uuid: str) -> None:
        self.delete_upload(uuid)
        shutil.rmtree(self.result_dir(uuid), ignore_errors=True)
