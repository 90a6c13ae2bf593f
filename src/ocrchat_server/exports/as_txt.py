"""``txt``: the text of every page, pages separated by a form feed."""

from __future__ import annotations

import attrs

from ocrchat_server.exports.base import ExportSource


@attrs.frozen
class TextExporter:
    format: str = "txt"
    media_type: str = "text/plain; charset=utf-8"

    def export(self, source: ExportSource) -> bytes:
        return ("\f".join(page.text for page in source.pages) + "\n").encode()


EXPORTER = TextExporter()
