"""``xlsx`` (openpyxl): one worksheet per table found, or one sheet of blocks when none."""

from __future__ import annotations

import io

import attrs
from openpyxl import Workbook

from ocrchat_server.exports.base import BLOCK_HEADER, ExportSource, block_row

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
        tables = [(page, table) for page in source.pages for table in page.tables]
        if tables:
            numbers: dict[int, int] = {}
            for page, table in tables:
                numbers[page.index] = numbers.get(page.index, 0) + 1
                title = f"Page {page.index + 1} table {numbers[page.index]}"
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
