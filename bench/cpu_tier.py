"""Benchmark of the cpu tier through a real server: speed, and memory as PDFs grow.

    nox -s bench                # or: python bench/cpu_tier.py [--pages 10 300]

For each PDF length it starts ``ocrchat-server serve`` (2 workers) on a fresh
data dir, OCRs a PDF of that many rendered A4 pages (``ocr=force``: their
text layer is not used; the default engine) and records the wall
time, pages per second and the peak resident memory (VmHWM) of the server
process and of its workers (the issue's goal: a 300-page PDF within 100 MB of
a 10-page one, server and workers together). Then it downloads the job in every format
and records each file's size, the time it took and the server's peak memory
after all of them. Flat memory across lengths is the point: pages are
rasterized, read and put into the searchable PDF one at a time, and the
exports hold text, never page images.

It also times Tesseract's own threading on two pages read at once, with and
without ``OMP_THREAD_LIMIT=1``, the setting the workers use.

Results go to ``bench/results/cpu.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_server  # noqa: E402
from tests.documents import TEST_DATA, text_pdf  # noqa: E402
from tests.live import child_pids  # noqa: E402

LINES = [
    "The committee met on the third of March to review the accounts of the year.",
    "Receipts rose by eleven percent, while costs stayed close to the estimate.",
    "The treasurer proposed that the surplus be held in reserve until autumn.",
] * 6


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run_pdf(pages: int, workers: int, language: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        pdf = text_pdf([[f"Page {n}", *LINES] for n in range(1, pages + 1)])
        with bench_server(Path(tmp) / "data", workers) as (client, headers, server):
            client.headers.update(headers)
            started = time.perf_counter()
            # ocr=force: the rendered pages have a text layer, and this measures OCR
            job = client.post(
                "/api/v1/ocr/",
                files={"file": ("bench.pdf", pdf)},
                data={"language": language, "ocr": "force"},
            ).json()
            while job["status"] not in ("done", "failed"):
                time.sleep(0.25)
                job = client.get(f"/api/v1/ocr/{job['uuid']}/").json()
            seconds = time.perf_counter() - started
            assert server.process is not None
            # the pool's processes (a 300-page job recycles none: --worker-max-pages is 500)
            worker_peaks = [peak_rss_kib(pid) for pid in child_pids(server.process.pid)]
            server_peak = peak_rss_kib(server.process.pid)
            exports = {}
            for fmt in ("txt", "md", "json", "csv", "xlsx", "docx", "pdf"):
                began = time.perf_counter()
                response = client.get(
                    f"/api/v1/ocr/{job['uuid']}/download/", params={"format": fmt}
                )
                exports[fmt] = {
                    "status": response.status_code,
                    "kib": round(len(response.content) / 1024),
                    "seconds": round(time.perf_counter() - began, 2),
                }
            server_peak_after_exports = peak_rss_kib(server.process.pid)
    return {
        "pages": pages,
        "language": language,
        "workers": workers,
        "status": job["status"],
        "seconds": round(seconds, 2),
        "pages_per_second": round(pages / seconds, 3),
        "server_peak_rss_mib": round(server_peak / 1024, 1),
        "largest_worker_peak_rss_mib": round(max(worker_peaks, default=0) / 1024, 1),
        "server_and_workers_peak_rss_mib": round((server_peak + sum(worker_peaks)) / 1024, 1),
        "exports": exports,
        "server_peak_rss_after_exports_mib": round(server_peak_after_exports / 1024, 1),
    }


def tesseract_threading() -> dict[str, float]:
    """Two pages read at once on this machine, Tesseract threaded vs one thread each."""
    page = TEST_DATA / "en_ehri_typed_dr19390519_03.jpg"
    results = {}
    for label, limit in (("default_threads", None), ("omp_thread_limit_1", "1")):
        env = dict(os.environ)
        env.pop("OMP_THREAD_LIMIT", None)
        if limit:
            env["OMP_THREAD_LIMIT"] = limit

        def read(_: int, env: dict[str, str] = env) -> None:
            subprocess.run(
                ["tesseract", str(page), "-", "-l", "eng"], env=env, capture_output=True, check=True
            )

        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(read, range(2)))
        results[f"{label}_seconds_for_2_pages"] = round(time.perf_counter() - started, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 300])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cpu.json")
    args = parser.parse_args()
    runs = [run_pdf(pages, args.workers, "eng") for pages in args.pages]
    runs.append(run_pdf(min(args.pages), args.workers, "auto"))
    shortest, longest = runs[0], runs[len(args.pages) - 1]
    total = "server_and_workers_peak_rss_mib"
    memory_growth = {
        "pages": [shortest["pages"], longest["pages"]],
        "server_and_workers_peak_rss_growth_mib": round(
            float(str(longest[total])) - float(str(shortest[total])), 1
        ),
    }
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "tesseract": subprocess.run(
                ["tesseract", "--version"], capture_output=True, text=True
            ).stdout.splitlines()[0],
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pdf_runs": runs,
        "memory_growth": memory_growth,
        "tesseract_threading": tesseract_threading(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
