"""Letters PP-OCRv6 confuses, put right where the language's own word list says so.

PP-OCRv6 has no dictionary: on a worn typewriter face it reads ``c`` as ``o``
throughout a page, with full confidence ("whioh", "ohuroh", "barraoks"), and
on Czech it drops accents ("hlidku" for "hlídku"). Tesseract's models carry a
word list for each language (its word DAWG), which Debian's ``tesseract-ocr``
can write out (``combine_tessdata``, ``dawg2wordlist``). A word PP-OCRv6 was
sure of (character probability at least 0.9) that is not in the list is put
right when changing one to three of its letters by the confusions below gives
exactly one word of the list.

Left alone, because there a change is more likely wrong than right: pages
PP-OCRv6 reads with less confidence (handwriting, damage: the model guesses
rather than confuses; :data:`.cpu._LEXICON_PAGE_SCORE`), unsure words,
capitalized words (names) unless the change only adds or moves an accent,
words under four letters, and word halves broken at a line end.

Measured on the shared corpus (docs/engines.md): printed CER 0.022 -> 0.019.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import subprocess
import tempfile
import unicodedata
from pathlib import Path

from ocrchat_server.engines.languages import tessdata_dir

log = logging.getLogger(__name__)

CONFUSIONS = {
    "a": "seáàâä",
    "c": "oeč",
    "d": "ď",
    "e": "acéèêěë",
    "i": "líìîï",
    "l": "i",
    "n": "uň",
    "o": "cóôö",
    "r": "ř",
    "s": "aš",
    "t": "ť",
    "u": "núůùûü",
    "ü": "uů",
    "y": "ý",
    "z": "ž",
}
"""Per letter PP-OCRv6 wrote, the letters it may have stood for."""
_SURE = 0.9
_SHORTEST = 4
_MOST_CHANGES = 3
_MOST_PLACES = 10
"""A word with more letters that could be confusions than this is left alone (too many
combinations to try, and too many chances of a wrong match)."""
_WORD = re.compile(r"^(\W*)(\w+?)(\W*)$")


def corrected(word: str, score: float, words: frozenset[str]) -> str:
    """``word`` (as PP-OCRv6 wrote it, with any punctuation around it) put right, or as it is."""
    if score < _SURE:
        return word
    match = _WORD.match(word)
    if not match:
        return word
    before, core, after = match.groups()
    if len(core) < _SHORTEST or not core.isalpha() or after.endswith("-") or _known(core, words):
        return word
    places = [i for i, letter in enumerate(core) if letter.lower() in CONFUSIONS]
    if len(places) > _MOST_PLACES:
        return word
    for changes in range(1, min(len(places), _MOST_CHANGES) + 1):
        found = {
            candidate for candidate in _variants(core, places, changes) if _known(candidate, words)
        }
        if len(found) > 1:
            return word  # two words it could be: no telling which
        if found:
            (candidate,) = found
            if core[0].isupper() and not _accents_only(core, candidate):
                return word  # a name, most likely
            return before + candidate + after
    return word


def _variants(core: str, places: list[int], changes: int) -> list[str]:
    variants = []
    for chosen in itertools.combinations(places, changes):
        options = [CONFUSIONS[core[i].lower()] for i in chosen]
        for letters in itertools.product(*options):
            spelled = list(core)
            for i, letter in zip(chosen, letters, strict=True):
                spelled[i] = letter.upper() if core[i].isupper() else letter
            variants.append("".join(spelled))
    return variants


def _known(word: str, words: frozenset[str]) -> bool:
    return word in words or word.lower() in words or word.capitalize() in words


def _accents_only(word: str, other: str) -> bool:
    """Whether two spellings differ only in their accents (hlidku, hlídku)."""
    return _bare(word) == _bare(other)


def _bare(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=2)
def lexicon(models: str) -> frozenset[str]:
    """The words of every model in a Tesseract ``-l`` value (empty where a model has none).

    Kept for the worker's next pages: English's 338,000 words take about 40 MB, so two
    language choices are kept at most."""
    words: set[str] = set()
    for model in models.split("+"):
        words |= _model_words(model)
    return frozenset(words)


def _model_words(model: str) -> frozenset[str]:
    """One model's word list, as Tesseract's tools write it out (a fraction of a second)."""
    traineddata = tessdata_dir() / f"{model}.traineddata"
    if not traineddata.is_file():
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="ocrchat-lexicon-") as folder:
        dawg, unicharset, listed = (
            Path(folder) / f"{model}.lstm-word-dawg",
            Path(folder) / f"{model}.lstm-unicharset",
            Path(folder) / "words.txt",
        )
        try:
            subprocess.run(
                ["combine_tessdata", "-e", str(traineddata), str(dawg), str(unicharset)],
                capture_output=True,
                check=True,
                timeout=60,
            )
            if not dawg.is_file():
                return frozenset()  # a script model, or one trained without a word list
            subprocess.run(
                ["dawg2wordlist", str(unicharset), str(dawg), str(listed)],
                capture_output=True,
                check=True,
                timeout=60,
            )
            text = listed.read_text(encoding="utf-8", errors="replace")
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("no word list for %s: %s", model, exc)
            return frozenset()
    return frozenset(unicodedata.normalize("NFC", word) for word in text.split())
