"""``docx`` (python-docx): one section per page, built from the page's Markdown.

Headings become Word headings, paragraphs paragraphs, list items Word list
paragraphs and Markdown tables real Word tables. The document properties
carry the source file name (title), the language asked for and the job id.
Markdown is read with markdown-it-py, not by hand.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import attrs
import docx
from docx.enum.section import WD_SECTION
from markdown_it import MarkdownIt

from ocrchat_server.exports.base import ExportSource

if TYPE_CHECKING:
    from docx.document import Document
    from markdown_it.token import Token

_MARKDOWN = MarkdownIt("commonmark").enable("table")
_MAX_HEADING = 9


def _plain(inline: Token) -> str:
    parts: list[str] = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts)


def _table(document: Document, tokens: list[Token], start: int) -> int:
    """Add the table that opens at ``tokens[start]``; returns the index after it."""
    rows: list[list[str]] = []
    index = start
    while tokens[index].type != "table_close":
        token = tokens[index]
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline":
            rows[-1].append(_plain(token))
        index += 1
    width = max((len(row) for row in rows), default=0)
    if rows and width:
        table = document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
    return index + 1


def _add_markdown(document: Document, markdown: str) -> None:
    tokens = _MARKDOWN.parse(markdown)
    lists: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            level = min(int(token.tag[1:]), _MAX_HEADING)
            document.add_heading(_plain(tokens[index + 1]), level=level)
            index += 3
            continue
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append("List Bullet" if token.type == "bullet_list_open" else "List Number")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "paragraph_open":
            style = lists[-1] if lists else None
            document.add_paragraph(_plain(tokens[index + 1]), style=style)
            index += 3
            continue
        elif token.type == "table_open":
            index = _table(document, tokens, index)
            continue
        elif token.type in ("code_block", "fence"):
            document.add_paragraph(token.content.rstrip("\n"))
        index += 1


@attrs.frozen
class DocxExporter:
    format: str = "docx"
    media_type: str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    def export(self, source: ExportSource) -> bytes:
        document = docx.Document()
        job = source.job
        properties = document.core_properties
        properties.title = job.filename or job.uuid
        properties.language = job.language
        properties.identifier = job.uuid
        properties.comments = f"OCR by ocrchat-server ({job.tier.value} tier)"
        for number, page in enumerate(source.pages):
            if number:
                document.add_section(WD_SECTION.NEW_PAGE)
            _add_markdown(document, page.markdown if page.markdown is not None else page.text)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()


EXPORTER = DocxExporter()
