"""Finding the lines of a job that answer a question: BM25 (bm25s) over the job's blocks.

Tokens are Unicode words, lower-cased, with stopwords dropped (bm25s' lists,
English plus the document's language) and Snowball stems (PyStemmer) in the
document's language. Scripts written without spaces (Chinese, Japanese,
Korean, Thai) are cut into overlapping character pairs, so a two-character
word in a question finds the same pair in the text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import attrs
import bm25s
import bm25s.stopwords
import numpy as np
import pycountry
import Stemmer

if TYPE_CHECKING:
    from ocrchat.models import BBox, Page

_WORD = re.compile(r"\w+", re.UNICODE)
# Han, Hiragana, Katakana, Hangul, Thai, Lao, Khmer, Myanmar: no spaces between words
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)
_STOPWORDS = {
    "english": bm25s.stopwords.STOPWORDS_EN_PLUS,
    "german": bm25s.stopwords.STOPWORDS_GERMAN,
    "french": bm25s.stopwords.STOPWORDS_FRENCH,
    "spanish": bm25s.stopwords.STOPWORDS_SPANISH,
    "italian": bm25s.stopwords.STOPWORDS_ITALIAN,
    "portuguese": bm25s.stopwords.STOPWORDS_PORTUGUESE,
    "dutch": bm25s.stopwords.STOPWORDS_DUTCH,
    "russian": bm25s.stopwords.STOPWORDS_RUSSIAN,
    "swedish": bm25s.stopwords.STOPWORDS_SWEDISH,
    "danish": bm25s.stopwords.STOPWORDS_DANISH,
    "norwegian": bm25s.stopwords.STOPWORDS_NORWEGIAN,
    "turkish": bm25s.stopwords.STOPWORDS_TURKISH,
    "chinese": bm25s.stopwords.STOPWORDS_CHINESE,
}


# Words that frame a question rather than say what it is about; the stopword
# lists lack some of them (German "wann", "wer"), being rare in prose.
_QUESTION_WORDS = frozenset(
    " ".join(
        (
            "who whom whose what when where which why how say says tell mention",
            "wer wen wem wessen was wann wo wohin woher welche welcher welches warum wieso wie",
            "qui quoi quand où quel quelle quels quelles pourquoi comment",
            "quién qué cuándo dónde cuál cuáles cómo",
        )
    ).split()
)


# Chinese function and question words cut an unspaced run into the words around
# them, so "总额是多少" (what is the total) searches for 总额 alone.
_UNSPACED_STOPWORDS = re.compile(
    "|".join(
        sorted(
            (w for w in bm25s.stopwords.STOPWORDS_CHINESE if _UNSPACED.fullmatch(w)),
            key=len,
            reverse=True,
        )
    )
)


def snowball_language(models: str | None) -> str | None:
    """The Snowball stemmer for Tesseract models such as ``deu`` or ``eng+fra``."""
    for code in (models or "").split("+"):
        language = pycountry.languages.get(alpha_3=code.split("_")[0]) if len(code) >= 3 else None
        name = str(language.name).lower() if language is not None else ""
        if name in Stemmer.algorithms():
            return name
    return None


class Tokenizer:
    def __init__(self, language: str | None) -> None:
        """``language``: a Snowball algorithm name (``english``, ``german``), or None."""
        self.language = language
        self._stemmer = Stemmer.Stemmer(language) if language else None
        words = (
            set(_STOPWORDS["english"]) | set(_STOPWORDS.get(language or "", ())) | _QUESTION_WORDS
        )
        self._stopwords = {unicodedata.normalize("NFKC", word).casefold() for word in words}

    def __call__(self, text: str) -> list[str]:
        tokens: list[str] = []
        for word in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
            for run, spaced in _split_unspaced(word):
                if spaced:
                    if run in self._stopwords:
                        continue
                    tokens.append(self._stemmer.stemWord(run) if self._stemmer else run)
                else:
                    for piece in filter(None, _UNSPACED_STOPWORDS.split(run)):
                        tokens.extend(piece[i : i + 2] for i in range(max(1, len(piece) - 1)))
        return tokens


def _split_unspaced(word: str) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _UNSPACED.finditer(word):
        if match.start() > position:
            parts.append((word[position : match.start()], True))
        parts.append((match.group(), False))
        position = match.end()
    if position < len(word):
        parts.append((word[position:], True))
    return parts


@attrs.frozen
class Passage:
    """One line of the document: where it is and what it says."""

    page: int
    """0-based page index."""
    line: int
    """Index of the block in its page."""
    text: str
    bbox: BBox


@attrs.frozen
class Hit:
    passage: Passage
    score: float
    terms: frozenset[str]
    """The query tokens this passage holds."""


class JobIndex:
    """A BM25 index over a finished job's lines."""

    def __init__(self, pages: list[Page]) -> None:
        self.pages = pages
        models = next((page.language for page in pages if page.language), None)
        self.tokenize = Tokenizer(snowball_language(models))
        self.passages = [
            Passage(page=page.index, line=n, text=block.text, bbox=block.bbox)
            for page in pages
            for n, block in enumerate(page.blocks)
            if block.text.strip()
        ]
        self._tokens = [self.tokenize(passage.text) for passage in self.passages]
        self._vocabulary = {token for tokens in self._tokens for token in tokens}
        self._bm25 = bm25s.BM25()
        if self.passages:
            self._bm25.index(self._tokens, show_progress=False)

    def search(self, query: list[str], k: int = 8) -> list[Hit]:
        """The best passages for the query tokens, best first; only those holding a token."""
        # bm25s refuses tokens it has not indexed; they match nothing anyway
        vocabulary = set(query) & self._vocabulary
        if not vocabulary:
            return []
        scores = self._bm25.get_scores(list(vocabulary))
        order = np.argsort(-scores, kind="stable")[:k]
        hits = []
        for index in order:
            terms = vocabulary & set(self._tokens[index])
            if scores[index] > 0 and terms:
                hits.append(Hit(self.passages[index], float(scores[index]), frozenset(terms)))
        return hits

    def following(self, passage: Passage, count: int) -> list[Passage]:
        """The next ``count`` lines of the same page (what a heading introduces)."""
        at = self.passages.index(passage)
        return [p for p in self.passages[at + 1 : at + 1 + count] if p.page == passage.page]
