"""``pdf``: the searchable PDF the workers wrote while the job ran (see ``searchable_pdf``)."""

from __future__ import annotations

from pathlib import Path

import attrs

from ocrchat_server.exports.base import ExportSource


@attrs.frozen
class PdfExporter:
    format: str = "pdf"
    media_type: str = "application/pdf"

    def export(self, source: ExportSource) -> Path:
        return source.searchable_pdf


EXPORTER = PdfExporter()
