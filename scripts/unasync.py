#!/usr/bin/env python3
"""Write ``src/ocrchat/_sync_client.py`` from ``_async_client.py`` (as httpcore does).

    python scripts/unasync.py           # regenerate
    python scripts/unasync.py --check   # exit 1 when the committed file is stale

Only the async client is written by hand; the sync one is this script's
output, so the two cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ocrchat"
SOURCE = PACKAGE / "_async_client.py"
TARGET = PACKAGE / "_sync_client.py"

# Plain text replacements, in order. The async file avoids these words elsewhere.
RULES = [
    ("import asyncio\n", ""),
    ("AsyncClient", "Client"),  # also httpx.AsyncClient and _SelfAsyncClient
    ("AsyncIterator", "Iterator"),
    ("asynchronously", "synchronously"),
    ("async def ", "def "),
    ("async with ", "with "),
    ("async for ", "for "),
    ("await ", ""),
    ("aclose", "close"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    (".aread()", ".read()"),
    (".aiter_bytes()", ".iter_bytes()"),
    ("asyncio.sleep", "time.sleep"),
]
HEADER = "# Generated from _async_client.py by scripts/unasync.py: do not edit by hand.\n"


def unasync(text: str) -> str:
    for old, new in RULES:
        text = text.replace(old, new)
    return HEADER + text


def main() -> int:
    generated = unasync(SOURCE.read_text())
    if "--check" in sys.argv[1:]:
        if TARGET.read_text() != generated:
            print(f"{TARGET} is stale: run python scripts/unasync.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
