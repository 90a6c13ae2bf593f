"""``extract-tables``: tables as structured rows, on either tier."""

from __future__ import annotations

from ocrchat_server.jobs.tools.base import ToolPreset

TOOL = ToolPreset(
    slug="extract-tables",
    description=(
        "Tables as structured rows (page tables), Markdown tables, and in the csv, "
        "xlsx and docx downloads. cpu: img2table and Tesseract; vlm: Surya's table "
        "recognition."
    ),
    read_tables=True,
)
