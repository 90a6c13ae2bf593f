"""``csv``: the tables found, one after another, each after a row naming its page and number.

A document with no table gives one row per block instead: page (1-based),
text, x0, y0, x1, y1 (pixels of the page image), confidence (0 to 1).
"""

from __future__ import annotations

import csv
import io

import attrs

from ocrchat_server.exports.base import BLOCK_HEADER, ExportSource, block_row, numbered_tables


@attrs.frozen
class CsvExporter:
    format: str = "csv"
    media_type: str = "text/csv; charset=utf-8"

    def export(self, source: ExportSource) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        tables = numbered_tables(source.pages)
        if tables:
            for page, number, table in tables:
                writer.writerow([f"page {page.index + 1}", f"table {number}"])
                writer.writerows(table.rows)
        else:
            writer.writerow(BLOCK_HEADER)
            for page in source.pages:
                writer.writerows(block_row(page, block) for block in page.blocks)
        # a byte-order mark, so spreadsheet programs read the file as UTF-8
        return ("\ufeff" + out.getvalue()).encode()


EXPORTER = CsvExporter()
