"""Answers grounded in a job's text, with citations a reader can check.

Two answerers share one contract: every citation's snippet is verbatim in
the cited page's text, and a question the text cannot answer gets
:data:`NOT_IN_DOCUMENT` with no citation.

- :class:`RetrievalAnswerer` (the default, nothing to install): the lines
  BM25 finds best, quoted with their pages.
- :class:`LlmAnswerer`: any OpenAI-compatible chat-completions endpoint,
  asked to answer only from the retrieved lines and to cite them; its
  citations are checked against the pages and dropped when not verbatim.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from ocrchat.models import Citation
from ocrchat_server.chat.retrieval import Hit

if TYPE_CHECKING:
    from ocrchat.models import Page
    from ocrchat_server.chat.retrieval import JobIndex, Passage
    from ocrchat_server.llm import ChatEndpoint

NOT_IN_DOCUMENT = "The document does not say."
_MIN_COVERAGE = 0.5
"""Share of the question's words the quoted lines must hold to count as an answer."""
_RELATIVE_SCORE = 0.5
_MAX_QUOTES = 4
_HEADING_WORDS = 4


@attrs.frozen
class Answer:
    content: str
    citations: list[Citation]


@attrs.frozen
class Turn:
    role: str
    content: str


class Answerer(Protocol):
    def answer(self, index: JobIndex, question: str, history: list[Turn]) -> Answer: ...


def _query(index: JobIndex, question: str, history: list[Turn]) -> tuple[list[str], list[str]]:
    """The question's tokens, and the tokens of the conversation's last question.

    A follow-up such as "and when is it due?" leans on the question before it.
    """
    asked = index.tokenize(question)
    earlier = [turn.content for turn in history if turn.role == "user"]
    return asked, index.tokenize(earlier[-1]) if earlier else []


_EARLIER_WEIGHT = 0.3
"""How much the conversation's last question counts in a follow-up's search, against the
follow-up's own words: "and when is it due?" after "what is the total due?" should find
the due date first, not the total again."""


def _search(index: JobIndex, asked: list[str], earlier: list[str], k: int = 8) -> list[Hit]:
    """The best lines for a question, its own words first and the earlier question's
    words as a lesser weight."""
    if not earlier:
        return index.search(asked, k)
    combined: dict[Passage, Hit] = {hit.passage: hit for hit in index.search(asked, 2 * k)}
    for hit in index.search(earlier, 2 * k):
        found = combined.get(hit.passage)
        score = _EARLIER_WEIGHT * hit.score + (found.score if found else 0.0)
        terms = hit.terms | (found.terms if found else frozenset())
        combined[hit.passage] = Hit(hit.passage, score, terms)
    return sorted(combined.values(), key=lambda hit: -hit.score)[:k]


_SECTION_NUMBER = re.compile(r"^\s*(?:\d+|[IVXLC]+)(?:\.\d+)*[.)]?\s+")


def _is_heading(text: str) -> bool:
    """A short line with no figures after its section number: "3. Termination", "Notes"."""
    rest = _SECTION_NUMBER.sub("", text)
    return (
        0 < len(text.split()) <= _HEADING_WORDS
        and not any(ch.isdigit() for ch in rest)
        and not rest.rstrip().endswith((".", "!", "?"))
    )


def _citation(passage: Passage) -> Citation:
    return Citation(page=passage.page + 1, snippet=passage.text, bbox=passage.bbox)


@attrs.frozen
class RetrievalAnswerer:
    """Quotes the best-supported lines, each with its page."""

    def answer(self, index: JobIndex, question: str, history: list[Turn]) -> Answer:
        asked, earlier = _query(index, question, history)
        hits = _search(index, asked, earlier)
        if not hits or not asked:
            return Answer(NOT_IN_DOCUMENT, [])
        best = hits[0].score
        chosen: list[Hit] = [hit for hit in hits if hit.score >= _RELATIVE_SCORE * best]
        chosen = chosen[:_MAX_QUOTES]
        # the question's own words must be found, not only the earlier question's
        wanted = set(asked) or set(earlier)
        covered = set().union(*(hit.terms for hit in chosen)) & wanted
        if len(covered) < _MIN_COVERAGE * len(wanted):
            return Answer(NOT_IN_DOCUMENT, [])
        quoted: list[Passage] = []
        for hit in chosen:
            if hit.passage not in quoted:
                quoted.append(hit.passage)
            if _is_heading(hit.passage.text):
                # what a heading introduces is the answer
                quoted.extend(p for p in index.following(hit.passage, 2) if p not in quoted)
        quoted.sort(key=lambda p: (p.page, p.line))
        # lines that follow each other are one quote: a sentence wrapped over two lines
        runs: list[list[Passage]] = []
        for passage in quoted:
            previous = runs[-1][-1] if runs else None
            if previous and previous.page == passage.page and previous.line + 1 == passage.line:
                runs[-1].append(passage)
            else:
                runs.append([passage])
        content = "; ".join(
            f'"{" ".join(p.text for p in run)}" (p. {run[0].page + 1})' for run in runs
        )
        return Answer(f"The document says: {content}.", [_citation(p) for p in quoted])


_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_SYSTEM_PROMPT = """You answer questions about one document using only the excerpts given.
Each excerpt is a line of the document with its page number.
Reply with one JSON object and nothing else:
{"answer": "<your answer, in the language of the question>",
 "citations": [{"page": <page number>, "snippet": "<text copied exactly from an excerpt>"}]}
Cite every excerpt you used; copy snippets character for character.
If the excerpts do not answer the question, reply
{"answer": "NOT_IN_DOCUMENT", "citations": []}."""


def _normalized(text: str) -> str:
    return " ".join(text.split())


def verified_citations(pages: list[Page], proposed: list[Any]) -> list[Citation]:
    """Keep the citations whose snippet is verbatim in the cited page's text."""
    by_number = {page.index + 1: page for page in pages}
    kept: list[Citation] = []
    for item in proposed:
        if not isinstance(item, dict):
            continue
        number = item.get("page")
        page = by_number.get(number) if isinstance(number, int) else None
        snippet = item.get("snippet")
        if page is None or not isinstance(snippet, str) or not snippet.strip():
            continue
        wanted = _normalized(snippet)
        if wanted not in _normalized(page.text):
            continue
        block = next((b for b in page.blocks if wanted in _normalized(b.text)), None)
        block = block or next((b for b in page.blocks if _normalized(b.text) in wanted), None)
        kept.append(
            Citation(
                page=page.index + 1, snippet=snippet.strip(), bbox=block.bbox if block else None
            )
        )
    return kept


@attrs.frozen
class LlmAnswerer:
    """Asks an OpenAI-compatible chat-completions endpoint, then checks its citations."""

    endpoint: ChatEndpoint

    def answer(self, index: JobIndex, question: str, history: list[Turn]) -> Answer:
        asked, earlier = _query(index, question, history)
        hits = _search(index, asked, earlier, k=12)
        if not hits:
            return Answer(NOT_IN_DOCUMENT, [])
        excerpts = "\n".join(
            f"[page {hit.passage.page + 1}] {hit.passage.text}"
            for hit in sorted(hits, key=lambda h: (h.passage.page, h.passage.line))
        )
        messages = [{"role": "system", "content": _SYSTEM_PROMPT}]
        messages += [{"role": turn.role, "content": turn.content} for turn in history[-6:]]
        messages.append(
            {"role": "user", "content": f"Excerpts:\n{excerpts}\n\nQuestion: {question}"}
        )
        reply = self.endpoint.complete(messages)
        match = _JSON_OBJECT.search(reply)
        try:
            data = json.loads(match.group()) if match else {}
        except json.JSONDecodeError:
            data = {}
        text = str(data.get("answer", "")).strip() if isinstance(data, dict) else ""
        proposed = data.get("citations", []) if isinstance(data, dict) else []
        citations = verified_citations(index.pages, proposed if isinstance(proposed, list) else [])
        if not text or text == "NOT_IN_DOCUMENT" or not citations:
            return Answer(NOT_IN_DOCUMENT, [])
        return Answer(text, citations)
