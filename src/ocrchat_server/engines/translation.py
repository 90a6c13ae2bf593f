"""The translate tool: each page's Markdown translated by the configured language model.

The page's Markdown goes, not its plain text, so headings, lists, tables and
``$math$`` come back in place; the translated plain text is read back out of
the translated Markdown. The model is the same OpenAI-compatible endpoint
chat uses (``--llm-url``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs
import pycountry
from markdown_it import MarkdownIt

from ocrchat_server.engines.languages import ALIASES

if TYPE_CHECKING:
    from markdown_it.token import Token

    from ocrchat_server.llm import ChatEndpoint

_FENCE = re.compile(r"^```[a-zA-Z]*\n(?P<body>.*)\n```$", re.DOTALL)
# Tesseract names behind the public aliases, back to what a person calls the language
_SCRIPT_VARIANTS = {"chi_sim": "Simplified Chinese", "chi_tra": "Traditional Chinese"}


class UnknownTargetError(ValueError):
    pass


@attrs.frozen
class TargetLanguage:
    code: str
    """As the caller gave it, lower-cased (``de``, ``zh-tw``)."""
    name: str
    """What the model is told (``German``, ``Traditional Chinese``)."""


def target_language(code: str) -> TargetLanguage:
    """``translate_to`` as a language the model can be told; ISO 639-1 or -3, or an alias."""
    wanted = code.strip().lower()
    alias = ALIASES.get(wanted)
    if alias in _SCRIPT_VARIANTS:
        return TargetLanguage(wanted, _SCRIPT_VARIANTS[alias])
    language = None
    if len(wanted) == 2:
        language = pycountry.languages.get(alpha_2=wanted)
    elif len(wanted) == 3:
        language = pycountry.languages.get(alpha_3=wanted)
    if language is None:
        raise UnknownTargetError(code)
    return TargetLanguage(wanted, str(language.name))


_SYSTEM_PROMPT = (
    "You translate documents. Translate the Markdown the user sends into {language}. "
    "Keep its structure exactly: the same headings, paragraphs, list items and table rows "
    "and cells, in the same order; leave math between $ signs, numbers, names and URLs as "
    "they are. Reply with the translated Markdown only, no notes and no code fence."
)


@attrs.frozen
class Translator:
    endpoint: ChatEndpoint

    def translate(self, markdown: str, target: TargetLanguage) -> str:
        """One page's Markdown in ``target``; an empty page stays empty."""
        if not markdown.strip():
            return markdown
        reply = self.endpoint.complete(
            [
                {"role": "system", "content": _SYSTEM_PROMPT.format(language=target.name)},
                {"role": "user", "content": markdown},
            ]
        ).strip()
        fenced = _FENCE.match(reply)
        return fenced["body"].strip() if fenced else reply


_BLOCK_ENDS = {"paragraph_close", "heading_close", "tr_close", "code_block", "fence", "hr"}


def markdown_text(markdown: str) -> str:
    """The plain text of Markdown: a line per paragraph, heading, list item and table
    row (cells split by tabs), a blank line between blocks outside lists and tables."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    lines: list[str] = []
    row: list[str] = []
    current = ""
    depth = 0  # inside a list or a table, blocks follow each other without a blank line
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open", "table_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close", "table_close"):
            depth -= 1
            if depth == 0:
                lines.append("")
        elif token.type == "inline":
            current = _inline_text(token)
        elif token.type in ("th_close", "td_close"):
            row.append(current)
            current = ""
        elif token.type in ("code_block", "fence"):
            current = token.content.rstrip("\n")
        if token.type in _BLOCK_ENDS:
            lines.append("\t".join(row) if token.type == "tr_close" else current)
            row, current = [], ""
            if depth == 0:
                lines.append("")
    return "\n".join(lines).strip()


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)
