"""The sync client is generated from the async one; the committed file must be the output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ocrchat

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "unasync.py"


def test_the_sync_client_is_up_to_date() -> None:
    check = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr


def test_both_clients_offer_the_same_methods() -> None:
    public = {name for name in dir(ocrchat.Client) if not name.startswith("_")}
    public_async = {name for name in dir(ocrchat.AsyncClient) if not name.startswith("_")}
    assert public - {"close"} == public_async - {"aclose"}
    assert {"submit", "get", "poll", "download", "chat", "history", "account"} <= public
