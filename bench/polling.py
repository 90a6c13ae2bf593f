"""50 clients polling a job, quiet and while large scanned PDFs are uploaded and read.

    nox -s bench                 # or: python bench/polling.py

A real server (``ocrchat-server serve``, a worker per core) on 127.0.0.1. 50 clients
each poll ``GET /api/v1/ocr/<uuid>/`` of a finished job in a loop, as the SDK's
``poll()`` does, for a fixed time, twice:

- quiet: nothing else runs;
- busy: meanwhile another client uploads a 10-page scanned PDF (the five real scans of
  ``tests/data``, EHRI Dataset, CC BY 4.0, twice; 2 MB of JPEG pages) again and again,
  so the server receives, sniffs and queues uploads and its workers read pages.

Each poll's latency is recorded; the point is that the busy tail stays close to
the quiet one (no upload, sniff or file read blocks the event loop).

Results go to ``bench/results/polling.json`` (and are printed).
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_server, write_results  # noqa: E402
from bench.searchable_pdf import SCANS  # noqa: E402
from tests.documents import TEST_DATA, scanned_pdf  # noqa: E402

CLIENTS = 50
SECONDS = 15.0


async def poll_for(client: httpx.AsyncClient, path: str, until: float) -> list[float]:
    latencies = []
    while time.perf_counter() < until:
        started = time.perf_counter()
        response = await client.get(path)
        response.raise_for_status()
        latencies.append(time.perf_counter() - started)
    return latencies


async def upload_until(client: httpx.AsyncClient, pdf: bytes, until: float) -> int:
    uploads = 0
    while time.perf_counter() < until:
        response = await client.post(
            "/api/v1/ocr/",
            files={"file": ("scans.pdf", pdf)},
            data={"language": "eng", "engine": "tesseract"},
        )
        assert response.status_code in (200, 202), response.text
        uploads += 1
    return uploads


async def no_uploads() -> int:
    return 0


async def phase(
    base_url: str, headers: dict[str, str], uuid: str, pdf: bytes | None
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=CLIENTS + 1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=120, limits=limits
    ) as client:
        until = time.perf_counter() + SECONDS
        pollers = [poll_for(client, f"/api/v1/ocr/{uuid}/", until) for _ in range(CLIENTS)]
        uploader = upload_until(client, pdf, until) if pdf is not None else no_uploads()
        polled, uploads = await asyncio.gather(asyncio.gather(*pollers), uploader)
    latencies = sorted(t for found in polled for t in found)
    quantiles = statistics.quantiles(latencies, n=100)
    report: dict[str, float] = {
        "polls": len(latencies),
        "polls_per_second": round(len(latencies) / SECONDS, 1),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p95_ms": round(quantiles[94] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
    }
    if pdf is not None:
        report["uploads"] = uploads
    return report


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        pdf_path = tmp / "scans.pdf"
        scanned_pdf([TEST_DATA / name for name in SCANS * 2], pdf_path)
        pdf = pdf_path.read_bytes()
        with bench_server(tmp / "data", cores) as (client, headers, _):
            page = TEST_DATA / SCANS[0]
            job = client.post(
                "/api/v1/ocr/",
                headers=headers,
                files={"file": (page.name, page.read_bytes())},
                data={"language": "eng", "engine": "tesseract"},
            ).json()
            assert job["status"] == "done", job
            base_url = str(client.base_url)
            quiet = asyncio.run(phase(base_url, headers, job["uuid"], None))
            busy = asyncio.run(phase(base_url, headers, job["uuid"], pdf))
    report = {
        "machine": {"cores": cores, "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "clients": CLIENTS,
        "seconds_each": SECONDS,
        "upload_bytes": len(pdf),
        "quiet": quiet,
        "busy": busy,
    }
    write_results("polling.json", report)


if __name__ == "__main__":
    main()
