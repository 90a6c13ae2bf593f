"""``json``: the whole job, exactly as ``GET /api/v1/ocr/<uuid>/`` returns it."""

from __future__ import annotations

import json

import attrs

from ocrchat._serde import unstructure
from ocrchat_server.exports.base import ExportSource


@attrs.frozen
class JsonExporter:
    format: str = "json"
    media_type: str = "application/json"

    def export(self, source: ExportSource) -> bytes:
        return json.dumps(unstructure(source.job), ensure_ascii=False).encode()


EXPORTER = JsonExporter()
