"""A block's words with their boxes, for ``?detail=words`` and the searchable PDF.

Every engine ends here. Where it gives a box per word (Tesseract's word level,
a PDF's glyphs, PP-OCRv6's word boxes from its recognizer's character
positions) that box is kept, clipped to the block's box (Tesseract's word boxes
overhang their line by a pixel or two). Where it gives none, the words are laid
out inside the block's box by their share of its characters and marked
``estimated``.

One rule ties a block's words to its text: joined by spaces, except between two
CJK characters, they give the text (:func:`join_words`). Chinese and Japanese
are written without spaces; such a run is split into its characters, each a word,
as Tesseract reads them.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

import attrs

from ocrchat.models import Word
from ocrchat_server.engines.base import Word as LayerWord

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ocrchat.models import BBox, Page

_UNSPACED = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
"""Characters of scripts written without spaces between words (CJK, full-width forms)."""
_WIDE = 0x2E80
"""From here on a character is about twice as wide as a Latin letter (CJK)."""


def unspaced(character: str) -> bool:
    """Whether ``character`` belongs to a script written without spaces (CJK)."""
    return _UNSPACED.match(character) is not None


def join_words(words: Iterable[str]) -> str:
    """Words joined by spaces, except between two CJK characters."""
    joined = ""
    for word in words:
        if not word:
            continue
        if joined and not (unspaced(joined[-1]) and unspaced(word[0])):
            joined += " "
        joined += word
    return joined


def split_words(text: str) -> list[str]:
    """The words of ``text``: split at spaces, and between any two CJK characters."""
    words = []
    for token in text.split():
        start = 0
        for i in range(1, len(token)):
            if unspaced(token[i - 1]) and unspaced(token[i]):
                words.append(token[start:i])
                start = i
        words.append(token[start:])
    return words


def enclosing(boxes: Iterable[BBox]) -> BBox:
    """The smallest box around ``boxes`` (at least one)."""
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def clip(box: BBox, inside: BBox) -> BBox:
    """``box`` cut to lie inside ``inside`` (a box wholly outside becomes an edge of it)."""
    x0 = min(max(box[0], inside[0]), inside[2])
    y0 = min(max(box[1], inside[1]), inside[3])
    x1 = max(min(box[2], inside[2]), x0)
    y1 = max(min(box[3], inside[3]), y0)
    return (x0, y0, x1, y1)


def _width(text: str) -> int:
    return sum(2 if ord(character) >= _WIDE else 1 for character in text)


def estimated_words(texts: Sequence[str], box: BBox, confidence: float) -> list[Word]:
    """``texts`` laid out left to right across ``box``, each as wide as its share of the
    characters (a CJK character counting twice, a space between two words once), each
    the box's height."""
    gaps = [
        0 if unspaced(before[-1]) and unspaced(after[0]) else 1
        for before, after in itertools.pairwise(texts)
    ]
    units = sum(_width(text) for text in texts) + sum(gaps)
    x0, y0, x1, y1 = box
    scale = (x1 - x0) / units if units else 0.0
    words, at = [], float(x0)
    for i, text in enumerate(texts):
        right = at + _width(text) * scale
        words.append(
            Word(
                text=text,
                bbox=(round(at), y0, round(right), y1),
                confidence=confidence,
                estimated=True,
            )
        )
        at = right + (gaps[i] * scale if i < len(gaps) else 0.0)
    return words


def aligned_words(
    texts: Sequence[str],
    pieces: Sequence[tuple[str, BBox]],
    box: BBox,
    confidence: float,
) -> list[Word] | None:
    """The words ``texts`` with their boxes from ``pieces``, the words or characters with
    boxes that the engine gave, in order; None where the two have different characters
    (spaces aside).

    A word made of whole pieces gets their box; where a word and a piece overlap only
    in part (the engine split or joined differently), the word gets its share of the
    piece by characters, and is marked estimated. Boxes are clipped to ``box``.
    """
    # each character's horizontal span, the piece it is in, and where that piece starts
    # and ends (in characters)
    spans: list[tuple[float, float, int]] = []
    ends: list[tuple[int, int]] = []
    for number, (text, (x0, _, x1, _)) in enumerate(pieces):
        characters = "".join(text.split())
        start = len(spans)
        for k in range(len(characters)):
            share = (x1 - x0) / len(characters)
            spans.append((x0 + k * share, x0 + (k + 1) * share, number))
        ends.append((start, len(spans)))
    own = "".join("".join(text.split()) for text in texts)
    if own != "".join("".join(text.split()) for text, _ in pieces) or not own:
        return None
    words, at = [], 0
    for text in texts:
        count = len("".join(text.split()))
        covered = spans[at : at + count]
        first, last = covered[0][2], covered[-1][2]
        whole = ends[first][0] == at and ends[last][1] == at + count
        at += count
        top = min(pieces[number][1][1] for number in range(first, last + 1))
        bottom = max(pieces[number][1][3] for number in range(first, last + 1))
        left, right = min(span[0] for span in covered), max(span[1] for span in covered)
        found = (round(left), top, round(right), bottom)
        words.append(
            Word(text=text, bbox=clip(found, box), confidence=confidence, estimated=not whole)
        )
    return words


def block_words(
    text: str, box: BBox, confidence: float, engine_words: Sequence[Word] | None = None
) -> list[Word]:
    """A block's words: ``engine_words`` clipped to its ``box`` where they give its
    ``text``, else the text's words laid out inside the box (estimated), each with the
    block's ``confidence``."""
    if engine_words and join_words(word.text for word in engine_words) == text:
        clipped = [(word, clip(word.bbox, box)) for word in engine_words]
        return [
            word if inside == word.bbox else attrs.evolve(word, bbox=inside)
            for word, inside in clipped
        ]
    return estimated_words(split_words(text), box, confidence)


def layer_words(page: Page) -> list[LayerWord]:
    """The page's words as the searchable PDF places them: each on its block's box, or,
    in a block of several lines (the vlm tier), on the line it was laid out on."""
    placed = []
    for block in page.blocks:
        x0, y0, x1, y1 = block.bbox
        lines = "\n" in block.text
        for word in block.words or []:
            # the words of a block's line share their top and bottom: the line's
            top, bottom = (word.bbox[1], word.bbox[3]) if lines else (y0, y1)
            placed.append(LayerWord(text=word.text, bbox=word.bbox, line_box=(x0, top, x1, bottom)))
    return placed
