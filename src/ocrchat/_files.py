"""Local files for the clients: what to upload, and where a download is streamed. (The
flows in ``_core`` never touch disk.)"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FileInput = str | os.PathLike[str] | bytes | IO[bytes] | tuple[str, bytes]
"""A path, bytes, an open binary file, or a ``(filename, bytes)`` pair (as httpx and
requests take them)."""


def read_upload(file: FileInput) -> tuple[str, bytes]:
    """The file name and bytes to upload."""
    if isinstance(file, tuple):
        filename, data = file
        if not isinstance(filename, str) or not isinstance(data, bytes):
            raise TypeError("a file as a tuple is (filename, bytes)")
        return filename, data
    if isinstance(file, bytes):
        return "document", file
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        return path.name, path.read_bytes()
    content = file.read()
    if not isinstance(content, bytes):
        raise TypeError("open the file in binary mode ('rb')")
    name = getattr(file, "name", None)
    return (Path(name).name if isinstance(name, str) else "document"), content


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[IO[bytes]]:
    """A file to write ``path``'s new content into: a temporary file beside it (so that the
    rename is atomic), renamed to ``path`` once the block ends, removed if it raises. A
    download that fails halfway (then retried, or raised) leaves no partial file, and an
    older file at ``path`` stays whole until the new one is."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with partial.open("xb") as file:
            yield file
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
