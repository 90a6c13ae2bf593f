"""Surya's block HTML into our page's plain text, Markdown and table rows.

Surya 2 writes each layout block as a small HTML fragment: paragraphs,
``h1``-``h5``, lists, tables (``colspan``/``rowspan`` allowed), and math as
``<math>`` holding KaTeX source (``display="block"`` for display math).
markdownify does the Markdown; math becomes ``$...$`` or ``$$...$$`` with
its LaTeX left unescaped, and tables are written from their cell grid, the
same way the cpu tier writes the tables it finds.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

from ocrchat_server.engines.tables import markdown_table

_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\u00a0]+")
_LINE_SPACES = re.compile(r"[ \u00a0]+")  # tabs stay: they split a table row's cells


def _cell_text(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _math_source(element: Tag) -> str:
    return element.get_text().strip()


def _is_display_math(element: Tag) -> bool:
    return str(element.get("display", "")).lower() == "block"


class _SuryaMarkdown(MarkdownConverter):
    def convert_math(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        source = _math_source(el)
        if not source:
            return ""
        return f"\n\n$$\n{source}\n$$\n\n" if _is_display_math(el) else f"${source}$"

    def convert_table(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"\n\n{markdown_table(table_rows(el))}\n\n"


_MARKDOWN_OPTIONS: dict[str, Any] = {"heading_style": "ATX", "bullets": "-", "strip": ["span"]}


def html_markdown(html: str) -> str:
    """The fragment as Markdown: headings, lists, emphasis, tables, ``$math$``."""
    markdown = _SuryaMarkdown(**_MARKDOWN_OPTIONS).convert(html)
    return _BLANK_RUNS.sub("\n\n", markdown).strip()


def html_text(html: str) -> str:
    """The fragment as plain text: one line per paragraph, heading, list item or table
    row (cells split by tabs), math as its LaTeX source."""
    soup = BeautifulSoup(html, "html.parser")
    for math in soup.find_all("math"):
        math.replace_with(_math_source(math))
    for row in soup.find_all("tr"):
        cells = [_cell_text(cell.get_text(" ")) for cell in row.find_all(["td", "th"])]
        row.replace_with(soup.new_string("\t".join(cells) + "\n"))
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for element in soup.find_all(["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "pre"]):
        element.append("\n")
    lines = [_LINE_SPACES.sub(" ", line).strip(" ") for line in soup.get_text().splitlines()]
    return "\n".join(line for line in lines if line)


def table_rows(table: Tag | str) -> list[list[str]]:
    """A table's cell text as rows of equal length.

    A cell spanning several columns or rows keeps its text in its first
    place and leaves the others empty, so every row has a value per column.
    """
    if isinstance(table, str):
        found = BeautifulSoup(table, "html.parser").find("table")
        if not isinstance(found, Tag):
            return []
        table = found
    grid: dict[tuple[int, int], str] = {}
    for row_index, row in enumerate(table.find_all("tr")):
        column = 0
        for cell in row.find_all(["td", "th"]):
            while (row_index, column) in grid:  # taken by a rowspan from above
                column += 1
            colspan = _span(cell.get("colspan"))
            rowspan = _span(cell.get("rowspan"))
            for down in range(rowspan):
                for across in range(colspan):
                    grid[(row_index + down, column + across)] = ""
            grid[(row_index, column)] = _cell_text(cell.get_text(" "))
            column += colspan
    if not grid:
        return []
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    return [[grid.get((r, c), "") for c in range(width)] for r in range(height)]


def _span(value: Any) -> int:
    try:
        return max(1, min(int(str(value)), 100))
    except (TypeError, ValueError):
        return 1
