"""The numbers of a numbered list's items that the recognizer read as letters, told by the
numbers around them.

Old print sets a list's numbers in the same type as its words, and PP-OCRv6 reads them
as letters now and then: in the corpus's Fraktur list, items 8 to 12 came back as "8.",
"S.", "IO.", "Ir.", "12.". A reader sees at once that the three between 8 and 12 are 9,
10 and 11; so does :func:`mended_numbers`, and only where the count leaves no doubt.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from ocrchat_server.engines.lexicon import DIGIT_LOOKALIKES

_NUMBER = re.compile(r"^(\d{1,3})([.)])$")
"""A list item's number: up to three figures and a full stop or a parenthesis."""
_LOOKS_LIKE_NUMBER = re.compile(r"^([^\W_]{1,3})([.)])$")
"""What a misread number looks like: up to three letters or figures, and the same sign."""


def mended_numbers(first_words: Sequence[str]) -> dict[int, str]:
    """For lines' first words in reading order, the ones that are list numbers misread,
    by their place in ``first_words``, and the number each is.

    - Between the items numbered m and n (n > m + 1), the lines whose first word looks
      like a number (:data:`_LOOKS_LIKE_NUMBER`, with the same sign after it) but is none
      are the items m + 1 to n - 1, where there are exactly n - m - 1 of them. Any other
      count (a continuation line that starts with "u.", a lettered sub-list, an item the
      detector missed) leaves them as read.
    - Such a word whose letters all look like figures (l and I like 1, O and o like 0)
      is the number they make where that is one more than the item before it, or one
      less than the item after it: "l." before "2.", "IO." after "9."."""
    numbers: dict[int, tuple[int, str]] = {
        place: (int(match.group(1)), match.group(2))
        for place, word in enumerate(first_words)
        if (match := _NUMBER.match(word))
    }
    mended: dict[int, str] = {}
    for (start, (first, sign)), (end, (last, last_sign)) in itertools.pairwise(
        sorted(numbers.items())
    ):
        if last <= first + 1 or sign != last_sign:
            continue
        between = [
            place for place in range(start + 1, end) if _looks_like(first_words[place], sign)
        ]
        if len(between) == last - first - 1:
            for number, place in enumerate(between, start=first + 1):
                mended[place] = f"{number}{sign}"
    # figures read as letters, told by the item before (forwards) or after (backwards)
    for places, step in ((range(len(first_words)), 1), (range(len(first_words) - 1, -1, -1), -1)):
        beside: tuple[int, str] | None = None
        for place in places:
            word = first_words[place]
            if place in numbers or place in mended:
                beside = numbers.get(place) or _number(mended[place])
                continue
            match = _LOOKS_LIKE_NUMBER.match(word)
            if match is None or beside is None:
                continue
            figures = match.group(1).translate(DIGIT_LOOKALIKES)
            if figures.isdigit() and (int(figures) - step, match.group(2)) == beside:
                mended[place] = f"{int(figures)}{match.group(2)}"
                beside = (int(figures), match.group(2))
    return mended


def _looks_like(word: str, sign: str) -> bool:
    """Whether ``word`` looks like a list number followed by ``sign`` but is none."""
    match = _LOOKS_LIKE_NUMBER.match(word)
    return match is not None and match.group(2) == sign and not _NUMBER.match(word)


def _number(word: str) -> tuple[int, str]:
    match = _NUMBER.match(word)
    assert match is not None  # a number this module wrote
    return int(match.group(1)), match.group(2)
