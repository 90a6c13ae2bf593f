"""Which recognizer reads which script, by measurement on the shared corpus.

PP-OCRv6 reads Latin-script languages and Chinese/Japanese far better than
Tesseract, and cannot read most other scripts at all; Tesseract keeps those
(Cyrillic, Arabic, Indic, Hangul, polytonic Greek ...). Greek set into a
Latin page is common (classics, science): PP-OCRv6 turns it into a mangled
monotonic Greek, which is how such lines are found and given to Tesseract.
"""

from __future__ import annotations

import unicodedata

from ocrchat_server.engines.languages import installed_models

# Tesseract model names of the languages PP-OCRv6's multilingual model reads
# (rapidocr's list of PP-OCRv6 languages), and the script models they belong to.
PPOCR_MODELS = frozenset(
    {
        "eng", "deu", "fra", "spa", "ita", "por", "nld", "ces", "pol", "slk", "slv",
        "hrv", "hun", "ron", "swe", "dan", "nor", "fin", "est", "lav", "lit", "isl",
        "gle", "cym", "eus", "cat", "glg", "afr", "aze", "bos", "ind", "msa", "mlt",
        "oci", "que", "sqi", "swa", "tgl", "fil", "tur", "uzb", "vie", "lat", "ltz",
        "mri", "srp_latn", "kmr", "frk", "enm", "frm", "ita_old", "spa_old",
        "chi_sim", "chi_tra", "jpn",
        "Latin", "Fraktur", "HanS", "HanT", "Japanese", "Vietnamese",
    }
)  # fmt: skip
GREEK_MODELS = ("grc", "ell", "Greek")
"""Tesseract's Greek models, the one for polytonic (ancient) Greek first."""
FRAKTUR_MODELS = frozenset({"frk", "Fraktur", "script/Fraktur"})
"""Tesseract's models for Fraktur type: a page read with one is set in Fraktur."""


CJK_MODELS = frozenset(
    {
        "chi_sim", "chi_tra", "jpn", "kor", "chi_sim_vert", "chi_tra_vert", "jpn_vert",
        "kor_vert", "HanS", "HanT", "HanS_vert", "HanT_vert", "Japanese", "Japanese_vert",
        "Hangul", "Hangul_vert",
    }
)  # fmt: skip
"""Tesseract's models of languages written with CJK characters and punctuation."""
_CJK_SIGNS = str.maketrans(
    {
        "一": "—", "。": ".", "、": ",",
        # the full-width forms of ASCII's letters, digits and punctuation
        **{chr(code): unicodedata.normalize("NFKC", chr(code)) for code in range(0xFF01, 0xFF5F)},
    }
)  # fmt: skip
"""CJK signs PP-OCRv6 reads on pages in Latin script, and the Latin characters they
look like: the ideograph for one is a dash ("一3." for "— 3." in a Latin table), a
full-width form its ASCII character (NFKC's)."""


def writes_cjk(models: str) -> bool:
    """Whether any language of a Tesseract ``-l`` value is written in CJK characters."""
    return any(model.removeprefix("script/") in CJK_MODELS for model in models.split("+"))


def latin_punctuation(text: str) -> str:
    """``text``, read by PP-OCRv6 (whose characters are mostly Chinese) on a page of no
    CJK language, with its CJK signs and full-width forms as the Latin characters they
    look like (:data:`_CJK_SIGNS`). One character each."""
    return text if text.isascii() else text.translate(_CJK_SIGNS)


def ppocr_reads(models: str) -> bool:
    """Whether PP-OCRv6 reads every language of a Tesseract ``-l`` value."""
    return all(model in PPOCR_MODELS for model in models.split("+"))


def ppocr_reads_but_greek(models: str) -> bool:
    """Whether a Tesseract ``-l`` value is Latin/CJK languages plus Greek (``eng+grc``):
    PP-OCRv6 reads the page, Tesseract its Greek lines."""
    parts = models.split("+")
    rest = [part for part in parts if part not in GREEK_MODELS]
    return len(rest) < len(parts) and bool(rest) and ppocr_reads("+".join(rest))


def greek_models_for(models: str | None) -> str | None:
    """``models`` with Tesseract's Greek model first in place of any of them (the
    polytonic one where installed), to read a page's Greek lines; None without one."""
    installed = installed_models()
    greek = next((model for model in GREEK_MODELS if model in installed), None)
    if greek is None:
        return None
    # lingua names monotonic Greek (el) from PP-OCRv6's garble; the one Greek model will do
    others = [model for model in (models or "").split("+") if model and model not in GREEK_MODELS]
    return "+".join([greek, *others])


def greek_share(text: str) -> float:
    """Share of the letters of ``text`` that are Greek (0 when it has none)."""
    letters = [character for character in text if character.isalpha()]
    if not letters:
        return 0.0
    greek = sum(unicodedata.name(character, "").startswith("GREEK") for character in letters)
    return greek / len(letters)


_GREEK_LETTER_FORMS = str.maketrans({"ϑ": "θ", "ϐ": "β", "ϰ": "κ", "ϱ": "ρ", "ϖ": "π", "ϕ": "φ"})
"""Greek symbols (for mathematics) that Tesseract's Greek models give for a letter set in
a curly typeface, and the letter itself (what NFKC makes of them)."""
_KORONIS = "\u1fbd"
_APOSTROPHE = "\u2019"


def greek_text_forms(text: str) -> str:
    """Tesseract's Greek as Greek text is written: letters, not their mathematical symbol
    forms, and an elided word's apostrophe (U+2019, as Unicode advises) where Tesseract
    gives the spacing koronis (a breathing mark) after the word's last letter."""
    text = text.translate(_GREEK_LETTER_FORMS)
    if _KORONIS not in text:
        return text
    characters = list(text)
    for i, character in enumerate(characters):
        if character == _KORONIS and i and characters[i - 1].isalpha():
            characters[i] = _APOSTROPHE
    return "".join(characters)


FRAKTUR_HYPHEN = "\u2e17"
"""⸗, the double oblique hyphen Fraktur type breaks a word with at a line's end, as
transcriptions of Fraktur print write it (OCR-D's ground truth among them)."""
LINE_END_HYPHENS = "-=" + FRAKTUR_HYPHEN
"""What the recognizers write for Fraktur's hyphen where they see one: a hyphen, or an
equals sign for its two strokes ("Sopho=")."""


def hyphenated(word: str) -> bool:
    """Whether a Fraktur page line's last ``word`` ends in a letter and a hyphen as the
    recognizers write Fraktur's (:data:`LINE_END_HYPHENS`): the first half of a word broken
    at the line's end. A dash after a space, or a sign after a figure, is none."""
    return len(word) > 1 and word[-1] in LINE_END_HYPHENS and word[-2].isalpha()


def with_fraktur_hyphen(word: str) -> str:
    """A Fraktur page line's last ``word`` with its hyphen as Fraktur's (⸗), where it is
    :func:`hyphenated`."""
    return word[:-1] + FRAKTUR_HYPHEN if hyphenated(word) else word
