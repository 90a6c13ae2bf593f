"""How common a word is in a language, from wordfreq's lists (shipped inside its wheel).

Tesseract's word lists (:mod:`.lexicon`) say only whether a word was seen. They were
gathered from the web, so they hold the accentless spellings of Czech ("ranni" beside
"ranní") and some misspellings, and a misreading that lands on such a spelling looked
like a word. wordfreq (Robyn Speer's word frequencies, drawn from Wikipedia, subtitles,
books, news and the web) tells "ranní" (Zipf 4.5: about 30 in a million words) from
"ranni" (1.3), so the lexicon step can prefer the common word, choose between two
candidates, and try a one-letter misreading it has no confusion for.

A Zipf frequency is log10 of a word's occurrences per billion words: 3 is once in a
million words, 6 once in a thousand. wordfreq has about 40 languages; for the others the
lexicon step works from Tesseract's list alone, as before.
"""

from __future__ import annotations

import functools
import math

import attrs
import pycountry
import wordfreq

_ALPHABET_WORDS = 3000
"""The most common words whose letters make a language's alphabet (:attr:`alphabet`)."""
_MOST_LETTERS = 80
"""An alphabet with more letters (Chinese, Japanese) is too large to try one letter for
another in every place of a word."""
_LANGUAGES_HELD = 3
"""Languages whose lists a worker keeps loaded at once (:func:`_hold`)."""
_SCRIPT_MODELS = {"frk": "deu"}
"""Tesseract models named after a typeface, and the language they are mostly set in."""
_WORDFREQ_CODES = {"no": "nb", "nn": "nb", "tl": "fil", "hr": "sh", "bs": "sh", "sr": "sh"}
"""Languages wordfreq lists under another code than their ISO 639-1 one: Norwegian as
Bokmål, Tagalog as Filipino, and Croatian, Bosnian and Serbian together as Serbo-Croatian."""


@attrs.frozen
class WordFrequencies:
    """The frequencies of the words of one or more languages (a page's models)."""

    languages: tuple[str, ...]
    """wordfreq's codes (ISO 639-1)."""
    alphabet: str
    """The lowercase letters of the languages' most common words, in order, or empty when
    there are too many of them to try."""

    def zipf(self, word: str) -> float:
        """The word's Zipf frequency in the most fitting of the languages (0 when unseen).

        Looked up in wordfreq's table itself, with the case folded as wordfreq folds it:
        the lexicon step asks this of every candidate spelling, thousands a page, and
        ``wordfreq.zipf_frequency`` tokenizes its argument first (about 8 µs a call, 0.1 s
        on a page of old print). For a word of letters the two agree (a test checks)."""
        key = word.casefold()
        # called as wordfreq calls it, so that its cache keeps one table a language
        frequency = max(
            wordfreq.get_frequency_dict(code, "best").get(key, 0.0) for code in self.languages
        )
        return round(math.log10(frequency) + 9, 2) if frequency > 0 else 0.0


def word_frequencies(models: str) -> WordFrequencies | None:
    """The frequencies for a Tesseract ``-l`` value (``ces``, ``eng+grc``), or None when
    wordfreq has none of its languages. A language's list loads on first use, in about
    0.3 s (:func:`_hold`)."""
    frequencies = _frequencies(models)
    if frequencies is not None:
        _hold(frequencies.languages)
    return frequencies


@functools.lru_cache(maxsize=16)
def _frequencies(models: str) -> WordFrequencies | None:
    available = wordfreq.available_languages()
    languages: list[str] = []
    for model in models.split("+"):
        code = _wordfreq_code(_SCRIPT_MODELS.get(model, model))
        if code is not None and code in available and code not in languages:
            languages.append(code)
    if not languages:
        return None
    letters = sorted(
        {
            letter
            for code in languages
            for word in wordfreq.top_n_list(code, _ALPHABET_WORDS)
            for letter in word
            if letter.isalpha()
        }
    )
    alphabet = "".join(letters) if len(letters) <= _MOST_LETTERS else ""
    return WordFrequencies(languages=tuple(languages), alphabet=alphabet)


_held: list[str] = []
"""The languages whose lists this process holds, as far as :func:`_hold` knows."""


def _hold(languages: tuple[str, ...]) -> None:
    """wordfreq keeps every list it has loaded for good (its loaders keep what they
    return, without a bound), 30 to 75 MB a language. A worker that meets a fourth
    language lets the others go, so it holds at most :data:`_LANGUAGES_HELD` (those a
    page asks for are loaded again when next used)."""
    fresh = [code for code in languages if code not in _held]
    if not fresh:
        return
    # the cache may also hold lists loaded outside this bookkeeping (wordfreq's own
    # functions, a WordFrequencies kept from before the last clearing)
    loaded = max(len(_held), wordfreq.get_frequency_dict.cache_info().currsize)
    if loaded + len(fresh) > _LANGUAGES_HELD:
        wordfreq.get_frequency_dict.cache_clear()
        wordfreq.get_frequency_list.cache_clear()
        _held.clear()
        fresh = list(languages)
    _held.extend(fresh)


def _wordfreq_code(model: str) -> str | None:
    """wordfreq's code for a Tesseract model: ``deu`` -> ``de``, ``nor`` -> ``nb``, ``fil``
    (which has no two-letter code) as it is; ``chi_sim`` -> None (no ISO 639-3 language
    of that name)."""
    language = pycountry.languages.get(alpha_3=model.split("_")[0])
    if language is None:
        return None
    code: str = getattr(language, "alpha_2", language.alpha_3)
    return _WORDFREQ_CODES.get(code, code)
