"""``csv``: the tables found, one after another, each after a row naming its page and number.

A document with no table gives one row per block instead: page (1-based),
text, x0, y0, x1, y1 (pixels of the page image), confidence (0 to 1).
"""

from __future__ import annotations

import csv
import io

import attrs

from ocrchat_server.exports.base import BLOCK_HEADER, ExportSource, block_row


@attrs.frozen
class CsvExporter:
    format: str = "csv"
    media_type: str = "text/csv; charset=utf-8"

    def export(self, source: ExportSource) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        tables = [(page, table) for page in source.pages for table in page.tables]
        if tables:
            numbers: dict[int, int] = {}
            for page, table in tables:
                numbers[page.index] = numbers.get(page.index, 0) + 1
                writer.writerow([f"page {page.index + 1}", f"table {numbers[page.index]}"])
                writer.writerows(table.rows)
        else:
            writer.writerow(BLOCK_HEADER)
            for page in source.pages:
                writer.writerows(block_row(page, block) for block in page.blocks)
        # a byte-order mark, so spreadsheet programs read the file as UTF-8
        return ("\ufeff" + out.getvalue()).encode()


EXPORTER = CsvExporter()
