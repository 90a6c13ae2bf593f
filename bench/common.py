"""What the benches share: a live server to measure, and where results go."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import LiveServer, make_accounts  # noqa: E402

from ocrchat_server.settings import Settings  # noqa: E402


@contextmanager
def bench_server(
    data_dir: Path, cores: int
) -> Iterator[tuple[httpx.Client, dict[str, str], LiveServer]]:
    """A real server (a worker per core) on a fresh data dir: a client, an account's
    headers, and the server (its process, for memory)."""
    (token,) = make_accounts(Settings(data_dir=data_dir), "bench")
    headers = {"Authorization": f"Bearer {token}"}
    with (
        LiveServer(data_dir, workers=cores) as server,
        httpx.Client(base_url=server.url, timeout=600) as client,
    ):
        yield client, headers, server


def write_results(name: str, report: dict[str, Any]) -> None:
    """``bench/results/NAME``, and the same on standard output."""
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
