"""The downloads of a long job: each format's size and time to build, and the archives'
formats' memory as the job grows, end to end from the stored result.

    nox -s bench                # or: python bench/exports.py [--pages 50] [--long 300]

A real scan from ``tests/data`` (an EHRI typed letter, CC BY 4.0; see
``tests/data/README.md``) is read once by the cpu tier's default engine, in this
process, with its words and paragraphs. A job of ``--pages`` pages of it (each
page its own objects, as the server loads a stored job) is then exported in
every format but ``pdf`` (written by the workers while a job runs, not built on
download): the file's size, and the median of three builds' time.

End to end (``download``): jobs of ``--pages`` and ``--long`` pages of it are
stored as the server stores a finished job (a job record in the SQLite records, the
result written by ``LocalStorage.write_result`` with each page's words, as the
workers' assembly writes it). Then, in a fresh process per format, length and way,
the server's app is started on that data dir and its own ``JobService.download``
streams the streamed formats (``hocr``, ``alto``, ``page``), keeping no chunk: how
far the process's resident memory rises while it downloads (VmHWM after, against
VmRSS before, the peak reset first where the kernel allows), and Python's own
allocations at their peak (tracemalloc), each after a 2-page job's download has
warmed the imports and caches. ``streamed`` is the download as it is now: pages read
from the stored result a page at a time as the file is written. ``loaded`` is the
download as it was before: the whole job read with its words
(``JobService.view(detail=words)``), then streamed.

From memory (``memory``): the same streamed formats built from a job already loaded,
each in a fresh process that makes the job and then streams the file (``streamed``)
or builds it whole at once (``whole``, what a non-streaming download holds): the
exporter's own share.

Flat is the point: the streamed download's figures stay the same from 50 to 300
pages, while the loaded job and the whole file grow with it.

Results go to ``bench/results/exports.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid as uuid_module
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import write_results  # noqa: E402
from PIL import Image  # noqa: E402
from tests.documents import TEST_DATA  # noqa: E402

from ocrchat._serde import structure, unstructure  # noqa: E402
from ocrchat.models import Job, JobStatus, Page, Tier  # noqa: E402
from ocrchat_server.engines.cpu import CpuEngine  # noqa: E402
from ocrchat_server.engines.languages import resolve_language  # noqa: E402
from ocrchat_server.exports import EXPORTERS, ExportSource  # noqa: E402
from ocrchat_server.exports.base import StreamingExporter  # noqa: E402
from ocrchat_server.jobs.embedded import open_backend  # noqa: E402
from ocrchat_server.jobs.records import JobRecord, JobResult  # noqa: E402
from ocrchat_server.settings import Settings  # noqa: E402

SCAN = TEST_DATA / "en_ehri_typed_dr19390519_03.jpg"
STREAMED = ("hocr", "alto", "page")


def read_scan() -> dict[str, Any]:
    """The scan's page as the job stores it (with its words), read by the default engine."""
    with Image.open(SCAN) as image:
        reading = CpuEngine().read_page(image, index=0, language=resolve_language("auto"))
    page: dict[str, Any] = unstructure(reading.page)
    return page


def job_of(page: dict[str, Any], pages: int) -> Job:
    """A done job of ``pages`` copies of the page, each structured on its own."""
    now = dt.datetime.now(dt.UTC)
    read = [structure({**page, "index": i}, Page) for i in range(pages)]
    return Job(
        uuid="0" * 32,
        status=JobStatus.DONE,
        language="auto",
        page_count=pages,
        filename="letter.pdf",
        ocr="auto",
        engine="auto",
        detected_languages=page.get("detected_languages"),
        text="\n\n".join(one.text for one in read),
        markdown="\n\n---\n\n".join(one.markdown or one.text for one in read),
        pages=read,
        created_at=now,
        finished_at=now,
    )


def source_of(job: Job) -> ExportSource:
    return ExportSource(job=job, searchable_pdf=Path("unused.pdf"))


def sizes_and_times(page: dict[str, Any], pages: int) -> dict[str, dict[str, float]]:
    source = source_of(job_of(page, pages))
    found = {}
    for fmt, exporter in EXPORTERS.items():
        if fmt == "pdf":
            continue
        times = []
        for _ in range(3):
            started = time.perf_counter()
            data = exporter.export(source)
            times.append(time.perf_counter() - started)
        assert isinstance(data, bytes)
        found[fmt] = {
            "kib": round(len(data) / 1024),
            "seconds": round(statistics.median(times), 3),
        }
    return found


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def measure_in_this_process(page_file: Path, fmt: str, pages: int, whole: bool) -> dict[str, Any]:
    """The child's side: load the job, then build the file (streamed, or whole)."""
    page = json.loads(page_file.read_text())
    source = source_of(job_of(page, pages))
    exporter = EXPORTERS[fmt]
    assert isinstance(exporter, StreamingExporter)
    list(exporter.stream(source_of(job_of(page, 2))))  # imports and caches, before measuring
    reset = _reset_peak()  # the peak from here on
    before = _status("VmRSS")
    started = time.perf_counter()
    size = 0
    if whole:
        data = exporter.export(source)
        assert isinstance(data, bytes)
        size = len(data)
    else:
        for chunk in exporter.stream(source):
            size += len(chunk)
    seconds = time.perf_counter() - started
    rise_kib = max(_status("VmHWM") - before, 0)
    del source
    # Python's own allocations at their peak, on a fresh job
    source = source_of(job_of(page, pages))
    tracemalloc.start()
    if whole:
        exporter.export(source)
    else:
        for _ in exporter.stream(source):
            pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "kib": round(size / 1024),
        "seconds": round(seconds, 3),
        "peak_rss_rise_kib": rise_kib,
        "tracemalloc_peak_mib": round(peak / 2**20, 2),
        "peak_reset": reset,
    }


def store_job(data_dir: Path, page: dict[str, Any], pages: int) -> str:
    """A done job of ``pages`` copies of the page, stored as the server stores one: its
    record, and its result written with each page's words beside it (as the workers'
    assembly writes it). Returns its id."""
    backend = open_backend(Settings(data_dir=data_dir))
    try:
        account = backend.accounts.create_account(f"bench-{pages}")[0]
        record = JobRecord(
            uuid=str(uuid_module.uuid4()),
            account_id=account.id,
            status=JobStatus.PENDING,
            tier=Tier.CPU,
            language="auto",
            format="pdf",
            page_count=pages,
            created_at=backend.jobs.clock(),
            filename="letter.pdf",
        )
        backend.jobs.insert_job(record)
        backend.storage.prepare_results(record.uuid)
        bare = {**page, "blocks": [{**b, "words": None} for b in page["blocks"]]}
        read = [structure({**bare, "index": i}, Page) for i in range(pages)]
        block_words = [block.get("words") for block in page["blocks"]]
        result = JobResult(
            pages=read,
            text="\n\n".join(one.text for one in read),
            markdown="\n\n---\n\n".join(one.markdown or one.text for one in read),
            mean_confidence=0.9,
            detected_languages=page.get("detected_languages"),
        )
        backend.storage.write_result(record.uuid, result, words=lambda _: block_words)
        backend.jobs.finish(record.uuid, JobStatus.DONE, retention=dt.timedelta(days=1))
    finally:
        backend.close()
    return record.uuid


def download_in_this_process(
    data_dir: Path, fmt: str, uuid: str, warm: str, loaded: bool
) -> dict[str, Any]:
    """The child's side: start the server's app on the data dir, then download the job
    through its ``JobService`` (as it is, or ``loaded`` whole first as before)."""
    from starlette.testclient import TestClient

    from ocrchat_server.app import create_app

    app = create_app(Settings(data_dir=data_dir, workers=1))
    with TestClient(app):
        service = app.state.services.jobs

        def chunks(job: str) -> Iterator[bytes]:
            record = service.jobs.get_job(job)
            if loaded:  # as downloads were built before: the whole job with its words
                source = ExportSource(
                    job=service.view(record, detail="words"),
                    searchable_pdf=service.storage.document_pdf(job),
                )
                exporter = EXPORTERS[fmt]
                assert isinstance(exporter, StreamingExporter)
                return exporter.stream(source)
            content = service.download(record, fmt).content
            assert not isinstance(content, bytes | Path)
            return iter(content)

        for _ in chunks(warm):  # imports and caches, before measuring
            pass
        reset = _reset_peak()
        before = _status("VmRSS")
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in chunks(uuid))
        seconds = time.perf_counter() - started
        rise_kib = max(_status("VmHWM") - before, 0)
        tracemalloc.start()
        for _ in chunks(uuid):
            pass
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "kib": round(size / 1024),
        "seconds": round(seconds, 3),
        "peak_rss_rise_kib": rise_kib,
        "tracemalloc_peak_mib": round(peak / 2**20, 2),
        "peak_reset": reset,
    }


def _reset_peak() -> bool:
    """Reset VmHWM to the resident memory now (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_download(data_dir: Path, fmt: str, uuid: str, warm: str, mode: str) -> dict[str, Any]:
    """A fresh process's figures for one format, job and way of downloading."""
    args = [sys.executable, __file__, "--download", str(data_dir), fmt, uuid, warm, mode]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(page_file: Path, fmt: str, pages: int, whole: bool) -> dict[str, Any]:
    """A fresh process's figures for one format and length."""
    args = [sys.executable, __file__, "--child", str(page_file), fmt, str(pages)]
    done = subprocess.run(
        [*args, "whole" if whole else "streamed"], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--long", type=int, default=300)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--download", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        page_file, fmt, pages, mode = args.child
        figures = measure_in_this_process(Path(page_file), fmt, int(pages), mode == "whole")
        print(json.dumps(figures))
        return
    if args.download:
        data_dir, fmt, uuid, warm, mode = args.download
        figures = download_in_this_process(Path(data_dir), fmt, uuid, warm, mode == "loaded")
        print(json.dumps(figures))
        return

    page = read_scan()
    words = sum(len(block.get("words") or []) for block in page["blocks"])
    lengths = (args.pages, args.long)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        warm = store_job(data_dir, page, 2)
        stored = {pages: store_job(data_dir, page, pages) for pages in lengths}
        download: dict[str, Any] = {
            fmt: {
                f"{mode}_{pages}_pages": measure_download(data_dir, fmt, uuid, warm, mode)
                for mode in ("streamed", "loaded")
                for pages, uuid in stored.items()
            }
            for fmt in STREAMED
        }
        page_file = Path(tmp) / "page.json"
        page_file.write_text(json.dumps(page))
        memory: dict[str, Any] = {}
        for fmt in STREAMED:
            memory[fmt] = {
                f"{mode}_{pages}_pages": measure(page_file, fmt, pages, mode == "whole")
                for mode in ("streamed", "whole")
                for pages in (args.pages, args.long)
            }
    growth = _growth(memory, ("streamed", "whole"), args.pages, args.long)
    download_growth = _growth(download, ("streamed", "loaded"), args.pages, args.long)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scan": {
            "file": SCAN.name,
            "engine": page.get("engine"),
            "width": page.get("width"),
            "height": page.get("height"),
            "blocks": len(page["blocks"]),
            "regions": len(page.get("regions") or []),
            "words": words,
        },
        f"job_{args.pages}_pages": sizes_and_times(page, args.pages),
        "download": download,
        f"download_growth_{args.pages}_to_{args.long}_pages": download_growth,
        "memory": memory,
        f"memory_growth_{args.pages}_to_{args.long}_pages": growth,
    }
    write_results("exports.json", report)


def _growth(
    figures: dict[str, Any], modes: tuple[str, ...], few: int, many: int
) -> dict[str, dict[str, float]]:
    """How much more each way takes for ``many`` pages than for ``few``."""
    found: dict[str, dict[str, float]] = {}
    for fmt, of_format in figures.items():
        found[fmt] = {}
        for mode in modes:
            long, short = of_format[f"{mode}_{many}_pages"], of_format[f"{mode}_{few}_pages"]
            found[fmt][f"{mode}_peak_rss_rise_growth_kib"] = (
                long["peak_rss_rise_kib"] - short["peak_rss_rise_kib"]
            )
            found[fmt][f"{mode}_tracemalloc_peak_growth_mib"] = round(
                long["tracemalloc_peak_mib"] - short["tracemalloc_peak_mib"], 2
            )
    return found


if __name__ == "__main__":
    main()
