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

_NUMBER = re.compile(r"^(\d{1,3})([.)])$")
"""A list item's number: up to three figures and a full stop or a parenthesis."""
_LOOKS_LIKE_NUMBER = re.compile(r"^([^\W_]{1,3})([.)])$")
"""What a misread number looks like: up to three letters or figures, and the same sign."""


def mended_numbers(first_words: Sequence[str]) -> dict[int, str]:
    """For lines' first words in reading order, the ones that are list numbers misread,
    by their place in ``first_words``, and the number each is.

    Between the items numbered m and n (n > m + 1), the lines whose first word looks like
    a number (:data:`_LOOKS_LIKE_NUMBER`, with the same sign after it) but is none are the
    items m + 1 to n - 1, where there are exactly n - m - 1 of them. Any other count (a
    continuation line that starts with "u.", a lettered sub-list, an item the detector
    missed) leaves every word as read."""
    numbered = [
        (place, int(match.group(1)), match.group(2))
        for place, word in enumerate(first_words)
        if (match := _NUMBER.match(word))
    ]
    mended: dict[int, str] = {}
    for (start, first, sign), (end, last, last_sign) in itertools.pairwise(numbered):
        if last <= first + 1 or sign != last_sign:
            continue
        between = [
            place
            for place in range(start + 1, end)
            if (match := _LOOKS_LIKE_NUMBER.match(first_words[place])) and match.group(2) == sign
        ]
        if len(between) == last - first - 1:
            for number, place in enumerate(between, start=first + 1):
                mended[place] = f"{number}{sign}"
    return mended
