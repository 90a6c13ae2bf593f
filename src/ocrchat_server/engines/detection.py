"""Which languages a page's recognized text is in, for ``language=auto``.

Tesseract's OSD names a page's script (Latin, Cyrillic, Han ...), not its
language, and a script model reads a language a little worse than the
language's own model. So ``auto`` reads the page once with the script model,
asks lingua which languages the text is in, and reads it again with those
languages' models when they differ.

lingua runs in low-accuracy mode (trigrams only): about 120 MB and half a
second to load, against 1 GB and 9 seconds with every model, and on
paragraphs of OCR text it picks the same languages.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING

import attrs
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from ocrchat_server.engines.languages import installed_models

if TYPE_CHECKING:
    from collections.abc import Iterable

_MIN_LETTERS = 12
"""A paragraph shorter than this is left out: a page number or a stray mark says nothing."""
_MIN_SHARE = 0.15
"""A language must hold this share of the page's letters to be reported and read with."""
_MIN_CONFIDENCE = 0.5
"""lingua's confidence in a paragraph's language below which the paragraph is not counted."""
_MAX_LANGUAGES = 3

# Where lingua's ISO 639-3 code is not the name of Tesseract's model.
_TESSERACT_MODELS = {
    Language.CHINESE: "chi_sim",  # lingua does not tell Simplified from Traditional
    Language.BOKMAL: "nor",
    Language.NYNORSK: "nor",
    Language.MALAY: "msa",
}


@attrs.frozen
class DetectedLanguage:
    code: str
    """ISO 639-1 where the language has one (``de``), else ISO 639-3."""
    model: str
    """The Tesseract model that reads it (``deu``)."""
    share: float
    """Share of the page's letters in paragraphs of this language."""


def _tesseract_model(language: Language) -> str:
    return _TESSERACT_MODELS.get(language, language.iso_code_639_3.name.lower())


def _api_code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@functools.cache
def _detector() -> LanguageDetector:
    """One detector per process, over the languages this machine can read."""
    installed = installed_models()
    readable = [language for language in Language.all() if _tesseract_model(language) in installed]
    return LanguageDetectorBuilder.from_languages(*readable).with_low_accuracy_mode().build()


def letter_count(text: str) -> int:
    """How many letters (of any script) the text holds: what lingua judges it by."""
    return sum(character.isalpha() for character in text)


def models_of(detected: Iterable[DetectedLanguage]) -> str:
    """The Tesseract models that read the languages found (``deu+eng``), each once."""
    return "+".join(dict.fromkeys(language.model for language in detected))


def _found(language: Language, share: float) -> DetectedLanguage:
    return DetectedLanguage(code=_api_code(language), model=_tesseract_model(language), share=share)


def _confident_language(text: str) -> Language | None:
    """lingua's language for the text, where it is confident enough to count."""
    confidences = _detector().compute_language_confidence_values(text)
    if confidences and confidences[0].value >= _MIN_CONFIDENCE:
        return confidences[0].language
    return None


def detect_languages(paragraphs: Iterable[str]) -> list[DetectedLanguage]:
    """The languages of a page's paragraphs, most letters first; empty when it cannot tell.

    Each paragraph gets one language, weighted by its letters, so a page that
    mixes German with an English abstract reports both.
    """
    letters_by_language: Counter[Language] = Counter()
    total = 0
    for paragraph in paragraphs:
        letters = letter_count(paragraph)
        if letters < _MIN_LETTERS:
            continue
        total += letters
        language = _confident_language(paragraph)
        if language is not None:
            letters_by_language[language] += letters
    if not total:
        return []
    return [
        _found(language, letters / total)
        for language, letters in letters_by_language.most_common(_MAX_LANGUAGES)
        if letters / total >= _MIN_SHARE
    ]


def detect_main_language(text: str) -> DetectedLanguage | None:
    """The one language of a sample of a page's text taken as a whole, or None when
    lingua is unsure. Asked of a few lines cut from across a page, it is steadier than
    counting their paragraphs: on short OCR paragraphs lingua's trigrams misjudge one in
    a few (three lines of English typewriting came out Norwegian at 0.99)."""
    if letter_count(text) < _MIN_LETTERS:
        return None
    language = _confident_language(text)
    return None if language is None else _found(language, 1.0)
