"""Downloads: one module per format, each defining ``EXPORTER``; adding a format is one file.

``searchable_pdf`` is the exception: workers write it while the job runs,
and ``as_pdf`` hands out what they wrote.
"""

from __future__ import annotations

import importlib
import pkgutil

from ocrchat.models import DOWNLOAD_FORMATS
from ocrchat_server.exports.base import Exporter, ExportSource

__all__ = ["EXPORTERS", "ExportSource", "Exporter"]


def _discover() -> dict[str, Exporter]:
    found: dict[str, Exporter] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("as_"):
            exporter: Exporter = importlib.import_module(f"{__name__}.{module.name}").EXPORTER
            found[exporter.format] = exporter
    # the SDK's DownloadFormat is the one list users type against: a format added here
    # without it (or the other way round) stops the server from starting, not a user's call
    if set(found) != set(DOWNLOAD_FORMATS):
        raise RuntimeError(
            f"exporters {sorted(found)} differ from ocrchat.models.DownloadFormat "
            f"{sorted(DOWNLOAD_FORMATS)}"
        )
    # in the SDK's order, which is the documented one
    return {fmt: found[fmt] for fmt in DOWNLOAD_FORMATS}


EXPORTERS: dict[str, Exporter] = _discover()
"""Every download format, by its ``format`` value."""
