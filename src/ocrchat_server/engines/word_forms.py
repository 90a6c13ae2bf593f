"""Whether a word is a form of a language's words, from simplemma's lemmatization
dictionaries (shipped inside its wheel), for the languages wordfreq has no list of.

Tesseract's word lists were gathered from the web, and its Latin list from OCRed old
prints too: it holds the long s read as ``f`` in the commonest words ("eft", "feu",
"Augufti", "roftro"), so the long-s step (:mod:`.lexicon`) took them for words and left
them as read. Of the Latin list's words with an ``f`` inside, 911 are no form of
simplemma's and become one with the ``f`` read as an ``s``; a sample of 80 held 76 such
misreadings ("ejufmodi", "faepius", "five" for "sive") and four junk words. simplemma's
Latin dictionary (1.3 million forms, drawn from Wiktionary and lemmatization lists) holds
none of them, and its forms decide a Latin page's long s instead.

Only languages in the Latin alphabet that wordfreq lacks are looked up here
(:mod:`.word_frequency` does better where it knows the language): Latin, and among the
others Welsh, Irish, Galician, Estonian, Esperanto, Albanian and Middle English. A
language's dictionary loads on a worker's first page in it, in about 0.75 s, and the
worker keeps it: Latin's takes about 110 MB (measured on 2 cores, November 2026).
"""

from __future__ import annotations

import functools

import attrs
import pycountry
import simplemma
import wordfreq
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

_OTHER_SCRIPTS = frozenset({"grc", "hy", "ka", "ml"})
"""simplemma's languages not written in the Latin alphabet (Ancient Greek, Armenian,
Georgian, Malayalam): the long s is a Latin letter, and their dictionaries are not loaded
for it."""
LIGATURES = str.maketrans({"æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe"})
"""Old prints set Latin's ae and oe as ligatures ("æqualibus"); simplemma's dictionaries
and Tesseract's Latin and English lists spell them out."""


@attrs.frozen
class WordForms:
    """The word forms of one or more languages (a page's models)."""

    languages: tuple[str, ...]
    """simplemma's codes (ISO 639-1 where the language has one: ``la``; else ``enm``)."""

    def __contains__(self, word: object) -> bool:
        """Whether ``word`` is a form of one of the languages, in any case (``Augusti``)."""
        if not isinstance(word, str) or not word:
            return False
        return simplemma.is_known(word.translate(LIGATURES), self.languages)


@functools.lru_cache(maxsize=16)
def word_forms(models: str) -> WordForms | None:
    """The word forms for a Tesseract ``-l`` value (``lat``), or None when none of its
    languages is one that simplemma has and wordfreq has not."""
    with_frequencies = wordfreq.available_languages()
    languages: list[str] = []
    for model in models.split("+"):
        code = _code(model)
        if (
            code is not None
            and code in SUPPORTED_LANGUAGES
            and code not in with_frequencies
            and code not in _OTHER_SCRIPTS
            and code not in languages
        ):
            languages.append(code)
    return WordForms(languages=tuple(languages)) if languages else None


def _code(model: str) -> str | None:
    """``lat`` -> ``la``, ``enm`` -> ``enm`` (no two-letter code); ``chi_sim`` -> None."""
    language = pycountry.languages.get(alpha_3=model.split("_")[0])
    if language is None:
        return None
    code: str = getattr(language, "alpha_2", None) or language.alpha_3
    return code
