"""Load and slow clients against a real server on 127.0.0.1 (issue 14).

    nox -s bench                 # or: python bench/hostile_load.py

A real ``ocrchat-server serve`` (a worker per core, the default limits but for
``--requests-per-minute 0`` and ``--queued-pages-per-account 0``: one account plays
every client here), three runs, each bounded in count and time:

- **submitters**: 200 clients each POST a one-page PDF at once (its text layer is
  read, so the figure is the server's, not OCR's); every job must come back
  ``done``: errors and lost jobs are counted;
- **pollers**: 200 clients poll a finished 500-page job for 10 s; requests per
  second and latency, and ``/healthz``'s latency meanwhile (measured by curl, in a
  process of its own). The pollers are this one Python process, on the same cores as
  the server: on a small machine they, not the server, are what runs out of CPU;
- **slow connections**: 1,000 connections send a request head a line at a time and
  never finish it (``--max-connections 2000``, so that they are not simply refused);
  ``/healthz``'s latency meanwhile, how many the server closed by its
  ``--header-timeout``, and the server's open file descriptors.

Results go to ``bench/results/hostile_load.json`` (and are printed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import write_results  # noqa: E402
from bench.polling import poll_for  # noqa: E402
from tests.documents import numbered_pdf  # noqa: E402
from tests.live import LiveServer, make_accounts  # noqa: E402

from ocrchat_server.settings import Settings  # noqa: E402

SUBMITTERS = 200
POLLERS = 200
POLL_SECONDS = 10.0
LONG_JOB_PAGES = 500
SLOW_CONNECTIONS = 1000
HEADER_TIMEOUT = 10.0


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": at(1.0)}


async def _submit_all(url: str, headers: dict[str, str]) -> dict[str, Any]:
    pdf = numbered_pdf(1)
    limits = httpx.Limits(max_connections=SUBMITTERS)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=300, limits=limits
    ) as client:

        async def one() -> tuple[float, int, str]:
            started = time.perf_counter()
            try:
                response = await client.post("/api/v1/ocr/", files={"file": ("a.pdf", pdf)})
            except httpx.HTTPError as exc:
                return time.perf_counter() - started, 0, type(exc).__name__
            status = response.json().get("status", "") if response.status_code < 300 else ""
            return time.perf_counter() - started, response.status_code, status

        started = time.perf_counter()
        answers = await asyncio.gather(*(one() for _ in range(SUBMITTERS)))
        wall = time.perf_counter() - started
    errors = sum(1 for _, code, _ in answers if code not in (200, 202))
    not_done = sum(1 for _, code, status in answers if code in (200, 202) and status != "done")
    return {
        "clients": SUBMITTERS,
        "wall_s": round(wall, 2),
        "errors": errors,
        "not_done_when_answered": not_done,
        "latency": _percentiles([seconds for seconds, _, _ in answers]),
    }


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _poll_all(
    url: str, headers: dict[str, str], path: str, server_pid: int
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=POLLERS + 1)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=60, limits=limits
    ) as client:
        until = time.perf_counter() + POLL_SECONDS
        health: list[float] = []
        cpu_before = _cpu_seconds(server_pid)

        async def health_checker() -> None:
            # curl, in a process of its own: this process's event loop is busy with the
            # pollers, and would add its own delay to what the server answers
            while time.perf_counter() < until:
                seconds = await asyncio.to_thread(_curl_seconds, f"{url}/healthz")
                health.append(seconds)
                await asyncio.sleep(0.5)

        results = await asyncio.gather(
            *(poll_for(client, path, until) for _ in range(POLLERS)), health_checker()
        )
        server_cpu = _cpu_seconds(server_pid) - cpu_before
    latencies = [value for result in results[:POLLERS] if result for value in result]
    size = len((await asyncio.to_thread(httpx.get, url + path, headers=headers)).content)
    return {
        "clients": POLLERS,
        "job_pages": LONG_JOB_PAGES,
        "body_kb": round(size / 1024),
        "seconds": POLL_SECONDS,
        "requests_per_s": round(len(latencies) / POLL_SECONDS, 1),
        # what the server spends on one poll, whatever the pollers' own CPU lets through
        "server_cpu_ms_per_poll": round(server_cpu / max(1, len(latencies)) * 1000, 2),
        "latency": _percentiles(latencies),
        "healthz_latency": _percentiles(health),
    }


def _curl_seconds(url: str) -> float:
    """How long ``url`` takes to answer, as curl measures it."""
    measured = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{time_total}", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(measured.stdout)


def _slow_connections(server: LiveServer) -> dict[str, Any]:
    assert server.process is not None
    sockets = []
    opened_at = time.monotonic()
    for _ in range(SLOW_CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        sockets.append(sock)
    descriptors = len(os.listdir(f"/proc/{server.process.pid}/fd"))
    health: list[float] = []
    statuses: list[int] = []
    deadline = opened_at + HEADER_TIMEOUT + 5
    while time.monotonic() < deadline:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.sendall(b"X-Slow: 1\r\n")
        statuses.append(httpx.get(f"{server.url}/healthz", timeout=30).status_code)
        health.append(_curl_seconds(f"{server.url}/healthz"))
        time.sleep(1)
    closed = 0
    for sock in sockets:
        sock.settimeout(0.5)
        try:
            closed += sock.recv(1024) == b""
        except TimeoutError:
            pass
        except OSError:
            closed += 1
        sock.close()
    return {
        "connections": SLOW_CONNECTIONS,
        "header_timeout_s": HEADER_TIMEOUT,
        "server_open_files_with_them": descriptors,
        "closed_by_the_server_within_timeout_plus_5_s": closed,
        "healthz_latency_meanwhile": _percentiles(health),
        "healthz_statuses_meanwhile": sorted(set(statuses)),
    }


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        (token,) = make_accounts(Settings(data_dir=data_dir), "bench")
        headers = {"Authorization": f"Bearer {token}"}
        options = ["--requests-per-minute", "0", "--queued-pages-per-account", "0"]
        options += ["--header-timeout", f"{HEADER_TIMEOUT:g}s", "--max-connections", "2000"]
        with LiveServer(data_dir, workers=cores, extra_args=options) as server:
            submitters = asyncio.run(_submit_all(server.url, headers))
            long_job = httpx.post(
                f"{server.url}/api/v1/ocr/",
                headers=headers,
                files={"file": ("long.pdf", numbered_pdf(LONG_JOB_PAGES))},
                timeout=600,
            ).json()
            path = f"/api/v1/ocr/{long_job['uuid']}/"
            while httpx.get(server.url + path, headers=headers).json()["status"] != "done":
                time.sleep(0.5)
            assert server.process is not None
            pollers = asyncio.run(_poll_all(server.url, headers, path, server.process.pid))
            slow = _slow_connections(server)
    report = {
        "machine": {"cores": cores, "python": platform.python_version()},
        "submitters": submitters,
        "pollers_of_a_500_page_job": pollers,
        "slow_connections": slow,
    }
    write_results("hostile_load.json", report)


if __name__ == "__main__":
    main()
