"""Where a job's files live under the data dir, and how they go away.

    uploads/<uuid>                  the uploaded bytes, until the job ends
    results/<uuid>/pdf/NNNNN.pdf    one page of the searchable PDF, written by a worker
    results/<uuid>/pages/NNNNN.json one page's result, written by a worker after its PDF
    results/<uuid>/job.json         the finished job's pages, text and Markdown
    results/<uuid>/document.pdf     the finished job's searchable PDF

Every write is to a temporary name then renamed, so a crash never leaves a
half-written result that a restart would trust.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import attrs


def write_json_atomically(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump(data, file, ensure_ascii=False, separators=(",", ":"))
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return json.load(file)


@attrs.frozen
class JobFiles:
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

    def document_pdf(self, uuid: str) -> Path:
        return self.result_dir(uuid) / "document.pdf"

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
