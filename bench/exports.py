"""The downloads of a long job: each format's size and time to build, and the archives'
formats' memory as the job grows.

    nox -s bench                # or: python bench/exports.py [--pages 50] [--long 300]

A real scan from ``tests/data`` (an EHRI typed letter, CC BY 4.0; see
``tests/data/README.md``) is read once by the cpu tier's default engine, in this
process, with its words and paragraphs. A job of ``--pages`` pages of it (each
page its own objects, as the server loads a stored job) is then exported in
every format but ``pdf`` (written by the workers while a job runs, not built on
download): the file's size, and the median of three builds' time.

Then the streamed formats (``hocr``, ``alto``, ``page``) are built for jobs of
``--pages`` and ``--long`` pages, each in a fresh process that loads the job and
then streams the file, keeping no chunk: how far its resident memory rises while it
streams (VmHWM after, against VmRSS before, the peak reset first where the kernel
allows), and Python's own allocations at their peak (tracemalloc). The same is
measured for the whole file built at once (``export``), what a non-streaming
download holds. Flat is the point: the streamed figures stay the same from 50 to
300 pages, while the whole file grows with the job.

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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import write_results  # noqa: E402
from PIL import Image  # noqa: E402
from tests.documents import TEST_DATA  # noqa: E402

from ocrchat._serde import structure, unstructure  # noqa: E402
from ocrchat.models import Job, JobStatus, Page  # noqa: E402
from ocrchat_server.engines.cpu import CpuEngine  # noqa: E402
from ocrchat_server.engines.languages import resolve_language  # noqa: E402
from ocrchat_server.exports import EXPORTERS, ExportSource  # noqa: E402
from ocrchat_server.exports.base import StreamingExporter  # noqa: E402

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
    try:  # the peak from here on (Linux 4.0 and later)
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
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
    args = parser.parse_args()
    if args.child:
        page_file, fmt, pages, mode = args.child
        figures = measure_in_this_process(Path(page_file), fmt, int(pages), mode == "whole")
        print(json.dumps(figures))
        return

    page = read_scan()
    words = sum(len(block.get("words") or []) for block in page["blocks"])
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "page.json"
        page_file.write_text(json.dumps(page))
        memory: dict[str, Any] = {}
        for fmt in STREAMED:
            memory[fmt] = {
                f"{mode}_{pages}_pages": measure(page_file, fmt, pages, mode == "whole")
                for mode in ("streamed", "whole")
                for pages in (args.pages, args.long)
            }
    growth = {
        fmt: {
            f"{mode}_peak_rss_rise_growth_kib": (
                figures[f"{mode}_{args.long}_pages"]["peak_rss_rise_kib"]
                - figures[f"{mode}_{args.pages}_pages"]["peak_rss_rise_kib"]
            )
            for mode in ("streamed", "whole")
        }
        for fmt, figures in memory.items()
    }
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
        "memory": memory,
        f"memory_growth_{args.pages}_to_{args.long}_pages": growth,
    }
    write_results("exports.json", report)


if __name__ == "__main__":
    main()
