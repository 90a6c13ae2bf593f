"""Pages per second with 1, 2 and 4 worker processes: the scale-out mode (PostgreSQL,
Redis, Celery workers) against the embedded mode (SQLite, the server's process pool).

    nox -s bench                 # or: python bench/scaleout.py

One 24-page scanned PDF (the four dense scans of ``tests/data``, EHRI Dataset, CC BY
4.0; Campbell 1881, GT4HistComment, CC BY 4.0; see ``tests/data/README.md``; each six
times), read with ``engine=tesseract`` so that what differs between the modes (the queue,
the records, the files) is not hidden behind a slower recognizer. Each run: the job
posted, polled every 0.2 s until done; its pages per second from the POST to done.

On a machine with fewer cores than workers the extra workers only share the cores; the
figures say what this machine did, with its core count beside them.

Results go to ``bench/results/scaleout.json`` (and are printed).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import img2pdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_server, write_results  # noqa: E402
from tests.documents import TEST_DATA  # noqa: E402
from tests.live import LiveServer, WorkerProcess  # noqa: E402
from tests.servers import PostgresServer, RedisServer  # noqa: E402

from ocrchat_server.jobs.backends import open_backend  # noqa: E402
from ocrchat_server.jobs.scaleout.migrate import upgrade  # noqa: E402
from ocrchat_server.settings import Settings  # noqa: E402

SCANS = [
    "en_ehri_typed_dr19390519_03.jpg",
    "en_ehri_typed_yv3549264_03.jpg",
    "de_ehri_typed_wl1375b189_02.jpg",
    "en_multicol_campbell_1881_p63.png",
]
COPIES = 6
WORKERS = (1, 2, 4)
READ = {"engine": "tesseract", "language": "eng"}


def scanned_pdf(copies: int = COPIES) -> bytes:
    pages = [(TEST_DATA / name).read_bytes() for name in SCANS] * copies
    return img2pdf.convert(pages)


def time_job(client: httpx.Client, headers: dict[str, str], pdf: bytes) -> float:
    started = time.perf_counter()
    job = client.post(
        "/api/v1/ocr/", headers=headers, files={"file": ("scans.pdf", pdf)}, data=READ
    ).json()
    while job["status"] not in ("done", "failed"):
        time.sleep(0.2)
        job = client.get(f"/api/v1/ocr/{job['uuid']}/", headers=headers).json()
    elapsed = time.perf_counter() - started
    assert job["status"] == "done", job
    return elapsed


def embedded(pdf: bytes, workers: int, base: Path) -> float:
    with bench_server(base / f"embedded{workers}", workers) as (client, headers, _):
        time_job(client, headers, scanned_pdf(1))  # warm: the workers' models loaded
        return time_job(client, headers, pdf)


def scale_out(pdf: bytes, workers: int, base: Path, postgres: str, redis: str) -> float:
    settings = Settings(
        data_dir=base / f"scaleout{workers}",
        database_url=postgres,
        broker_url=redis,
        storage=base / f"shared{workers}",
    )
    backend = open_backend(settings)
    try:
        _, token = backend.accounts.create_account(f"bench{workers}", plan="pro")
    finally:
        backend.close()
    headers = {"Authorization": f"Bearer {token}"}
    scale_args = [
        "--database-url",
        postgres,
        "--broker-url",
        redis,
        "--storage",
        str(settings.storage),
    ]
    processes = [
        WorkerProcess(settings, base / f"worker{workers}-{n}.log").start() for n in range(workers)
    ]
    try:
        with (
            LiveServer(base / f"api{workers}", workers=1, extra_args=scale_args) as server,
            httpx.Client(base_url=server.url, timeout=600) as client,
        ):
            time_job(client, headers, scanned_pdf(1))  # warm: the workers' models loaded
            return time_job(client, headers, pdf)
    finally:
        for process in processes:
            process.stop()


def main() -> None:
    pdf = scanned_pdf()
    pages = len(SCANS) * COPIES
    results: dict[str, Any] = {"embedded": {}, "scale_out": {}}
    with tempfile.TemporaryDirectory() as tmp, PostgresServer() as pg, RedisServer() as redis:
        base = Path(tmp)
        upgrade(pg.url)
        for workers in WORKERS:
            seconds = embedded(pdf, workers, base)
            results["embedded"][str(workers)] = {
                "seconds": round(seconds, 2),
                "pages_per_second": round(pages / seconds, 3),
            }
            seconds = scale_out(pdf, workers, base, pg.url, redis.url)
            results["scale_out"][str(workers)] = {
                "seconds": round(seconds, 2),
                "pages_per_second": round(pages / seconds, 3),
            }
    write_results(
        "scaleout.json",
        {
            "machine": {"cores": os.cpu_count(), "platform": platform.platform()},
            "document": f"{pages}-page scanned PDF (tests/data scans), engine=tesseract",
            "workers": list(WORKERS),
            **results,
        },
    )


if __name__ == "__main__":
    main()
