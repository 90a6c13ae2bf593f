"""Downloads: one module per format, each defining ``EXPORTER``; adding a format is one file.

``searchable_pdf`` is the exception: workers write it while the job runs,
and ``as_pdf`` hands out what they wrote.
"""

from __future__ import annotations

import importlib
import pkgutil

from ocrchat_server.exports.base import Exporter, ExportSource

__all__ = ["EXPORTERS", "ExportSource", "Exporter"]


def _discover() -> dict[str, Exporter]:
    found: dict[str, Exporter] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("as_"):
            exporter: Exporter = importlib.import_module(f"{__name__}.{module.name}").EXPORTER
            found[exporter.format] = exporter
    return found


EXPORTERS: dict[str, Exporter] = _discover()
"""Every download format, by its ``format`` value."""
