"""JSON files written whole or not at all."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO


@contextlib.contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """A file that appears at ``path`` only once fully written and synced: a crash never
    leaves a half-written result that a restart would trust."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    temporary.replace(path)


def dump_json(data: Any, file: TextIO) -> None:
    json.dump(data, file, ensure_ascii=False, separators=(",", ":"))


def write_json_atomically(path: Path, data: Any) -> None:
    with atomic_text_file(path) as file:
        dump_json(data, file)


def read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return json.load(file)
