"""The ``pages`` field of a submit: which of the file's pages to read.

Written as a reader counts, 1-based: ``"3"``, ``"1-3,7"``, ``"10-"`` (to the end).
The parsed selection is a sorted tuple of 0-based indexes, each page once, and
it is kept with the job in its normalized form (``"1-3,7"``).
"""

from __future__ import annotations

import re

_MAX_TEXT = 1000
_PART = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$")


class PageSelectionError(ValueError):
    """A ``pages`` value that is not a list of pages and ranges, or names pages the file
    does not have."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def parse_page_selection(text: str, page_count: int) -> tuple[int, ...]:
    """The 0-based indexes ``text`` selects in a file of ``page_count`` pages."""
    if len(text) > _MAX_TEXT:
        raise PageSelectionError(f"pages is at most {_MAX_TEXT} characters.", code="invalid_pages")
    selected: set[int] = set()
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise PageSelectionError(
                f"pages={text!r}: {part.strip()!r} is not a page or a range; write pages "
                'as a reader counts them, such as "1-3,7" or "10-".',
                code="invalid_pages",
            )
        first = int(match[1])
        last = int(match[3]) if match[3] else (page_count if match[2] else first)
        if first < 1 or last < first:
            raise PageSelectionError(
                f"pages={text!r}: {part.strip()!r} is not a range of pages (pages count from 1, "
                "and a range runs from its first page to its last).",
                code="invalid_pages",
            )
        if last > page_count:
            raise PageSelectionError(
                f"pages={text!r} asks for page {last}, and the file has {page_count} "
                f"page{'s' if page_count != 1 else ''}.",
                code="pages_out_of_range",
            )
        selected.update(range(first - 1, last))
    return tuple(sorted(selected))


def describe_page_selection(indexes: tuple[int, ...]) -> str:
    """The normalized, 1-based form of a selection: runs joined, ``"1-3,7"``."""
    runs: list[str] = []
    start = previous = None
    for index in indexes:
        if start is None or previous is None:
            start = previous = index
        elif index == previous + 1:
            previous = index
        else:
            runs.append(_run(start, previous))
            start = previous = index
    if start is not None and previous is not None:
        runs.append(_run(start, previous))
    return ",".join(runs)


def _run(first: int, last: int) -> str:
    return str(first + 1) if first == last else f"{first + 1}-{last + 1}"
