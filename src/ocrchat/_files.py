"""Local files for the clients: what to upload. (The flows in ``_core`` never touch disk.)"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

FileInput = str | os.PathLike[str] | bytes | IO[bytes] | tuple[str, bytes]
"""A path, bytes, an open binary file, or a ``(filename, bytes)`` pair (as httpx and
requests take them)."""
"""A path, the bytes themselves, or a file opened in binary mode."""


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
