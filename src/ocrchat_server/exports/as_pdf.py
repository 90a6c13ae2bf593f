"""``pdf``: the searchable PDF the workers wrote while the job ran (see ``searchable_pdf``).

A translated job gets a document of its translation instead, a page of the
PDF for each page of the upload: the scan's searchable PDF would carry the
original words under the translation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
from fpdf import FPDF
from markdown_it import MarkdownIt

from ocrchat_server.exports.base import ExportSource
from ocrchat_server.exports.searchable_pdf import TEXT_LAYER_FONT

_FONT = "text"
_FONT_SIZE = 11


def translation_pdf(source: ExportSource) -> bytes:
    """Each page's translated Markdown set as text: headings, lists, tables (fpdf2's HTML)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime.now(dt.UTC))
    pdf.set_creator("ocrchat-server")
    if source.job.filename:
        pdf.set_title(source.job.filename)
    if source.job.translated_to:
        pdf.set_lang(source.job.translated_to)
    # Unifont has every script of the basic plane, in one weight: bold and italic reuse it
    for style in ("", "B", "I", "BI"):
        pdf.add_font(_FONT, style=style, fname=str(TEXT_LAYER_FONT))
    markdown = MarkdownIt("commonmark").enable("table")
    for page in source.pages:
        pdf.add_page()
        pdf.set_font(_FONT, size=_FONT_SIZE)
        pdf.write_html(markdown.render(page.markdown or page.text), font_family=_FONT)
    return bytes(pdf.output())


@attrs.frozen
class PdfExporter:
    format: str = "pdf"
    media_type: str = "application/pdf"

    def export(self, source: ExportSource) -> Path | bytes:
        if source.job.translated_to:
            return translation_pdf(source)
        return source.searchable_pdf


EXPORTER = PdfExporter()
