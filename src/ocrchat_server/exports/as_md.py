"""``md``: the job's Markdown (headings, paragraphs, lists and tables where found)."""

from __future__ import annotations

import attrs

from ocrchat_server.exports.base import ExportSource


@attrs.frozen
class MarkdownExporter:
    format: str = "md"
    media_type: str = "text/markdown; charset=utf-8"

    def export(self, source: ExportSource) -> bytes:
        return ((source.job.markdown or "") + "\n").encode()


EXPORTER = MarkdownExporter()
