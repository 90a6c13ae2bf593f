"""``xlsx`` (openpyxl): one worksheet per table found, or one sheet of blocks when none."""

from __future__ import annotations

import io

import attrs
from openpyxl import Workbook

from ocrchat_server.exports.base import BLOCK_HEADER, ExportSource, block_row, numbered_tables

_MAX_SHEET_TITLE = 31  # Excel's limit


@attrs.frozen
class XlsxExporter:
    format: str = "xlsx"
    media_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def export(self, source: ExportSource) -> bytes:
        book = Workbook()
        first = book.active
        assert first is not None
        book.remove(first)
        tables = numbered_tables(source.pages)
        if tables:
            for page, number, table in tables:
                title = f"Page {page.index + 1} table {number}"
                sheet = book.create_sheet(title[:_MAX_SHEET_TITLE])
                for row in table.rows:
                    sheet.append(row)
        else:
            sheet = book.create_sheet("Blocks")
            sheet.append(BLOCK_HEADER)
            for page in source.pages:
                for block in page.blocks:
                    sheet.append(block_row(page, block))
        book.properties.title = source.job.filename
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


EXPORTER = XlsxExporter()
