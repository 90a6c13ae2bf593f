"""From the `language` parameter of the API to Tesseract model names.

The API accepts ``auto``, ISO 639-1 codes (``de``), the public service's
aliases (``ch`` = Simplified Chinese, ``chinese_cht`` = Traditional),
Tesseract's own codes (``deu``, ``chi_sim``, script models such as
``Latin`` or ``script/Latin``) and any of those joined with ``+``.
ISO 639 tables come from pycountry rather than a list kept by hand.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import attrs
import pycountry

AUTO = "auto"

# Where the ISO code and Tesseract's name part ways. Everything else goes
# through pycountry (639-1 -> 639-2/T, which is what Tesseract names most models).
ALIASES: dict[str, str] = {
    # the public service's short names (they follow PaddleOCR's)
    "ch": "chi_sim",
    "chinese_cht": "chi_tra",
    "japan": "jpn",
    "korean": "kor",
    "german": "deu",
    "french": "fra",
    "arabic": "ara",
    "cyrillic": "Cyrillic",
    "devanagari": "Devanagari",
    "latin": "Latin",
    # ISO 639-1 codes whose Tesseract model is not the 639-2/T code
    "zh": "chi_sim",
    "zh-cn": "chi_sim",
    "zh-hans": "chi_sim",
    "zh-tw": "chi_tra",
    "zh-hant": "chi_tra",
    "tl": "fil",
    "ku": "kmr",
    "sr-latn": "srp_latn",
    "az-cyrl": "aze_cyrl",
    "uz-cyrl": "uzb_cyrl",
}

# Tesseract's OSD names a script; this is the model that reads it.
_SCRIPT_MODELS: dict[str, str] = {
    "Han": "HanS",
    "Katakana": "Japanese",
    "Hiragana": "Japanese",
    "Korean": "Hangul",
}


NOT_LANGUAGES = frozenset({"osd"})
"""Installed models that read no language: ``osd`` finds a page's orientation and script,
and as ``-l osd`` gives garbage."""
MAX_MODELS = 8
"""The most models one request may name: each is loaded and tried on every line, so 160
at once cost gigabytes and half a minute for one page (``max_models`` to change it)."""


class UnknownLanguageError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TooManyLanguagesError(ValueError):
    def __init__(self, count: int, cap: int) -> None:
        super().__init__(f"{count} models named, at most {cap} are read at once")
        self.count = count
        self.cap = cap


@functools.cache
def installed_models() -> frozenset[str]:
    """Every model this machine's Tesseract can load (``tesseract --list-langs``).

    The command, not a folder listing: it lists what this Tesseract finds where it
    looks (``TESSDATA_PREFIX`` or its built-in folder), capitalized script models
    (``Latin``, ``Cyrillic``, ``HanS``) that ``auto`` relies on included.
    """
    _, models = _listing()
    return models


def tessdata_dir() -> Path:
    """Where Tesseract's models are (it says so when it lists them)."""
    folder, _ = _listing()
    return folder


@functools.cache
def _listing() -> tuple[Path, frozenset[str]]:
    listing = subprocess.run(
        ["tesseract", "--list-langs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # the first line is a header: 'List of available languages in "/usr/share/..." (161):'
    lines = listing.splitlines()
    header = lines[0] if lines else ""
    folder = Path(header.split('"')[1]) if header.count('"') >= 2 else Path()
    return folder, frozenset(line.strip() for line in lines[1:] if line.strip())


@attrs.frozen
class LanguageChoice:
    """What a page will be read with: fixed models, or detection per page."""

    requested: str
    models: str | None
    """``deu+eng`` for Tesseract's ``-l``; ``None`` for ``auto``."""

    @property
    def auto(self) -> bool:
        return self.models is None


def _one_model(code: str, installed: frozenset[str]) -> str:
    lowered = code.lower()
    if lowered.removeprefix("script/") in NOT_LANGUAGES:
        raise UnknownLanguageError(code)
    if code in installed:
        return code
    if lowered in installed:
        return lowered
    if lowered.startswith("script/") and code[len("script/") :] in installed:
        return code[len("script/") :]  # upstream tessdata's layout; Debian's is flat
    if lowered in ALIASES and ALIASES[lowered] in installed:
        return ALIASES[lowered]
    if len(lowered) == 2:
        language = pycountry.languages.get(alpha_2=lowered)
        if language is not None and language.alpha_3 in installed:
            return str(language.alpha_3)
    raise UnknownLanguageError(code)


def resolve_language(
    requested: str, installed: frozenset[str] | None = None, *, max_models: int = MAX_MODELS
) -> LanguageChoice:
    """Check ``requested`` against the installed models.

    Raises :class:`UnknownLanguageError` naming the first code with no model, and
    :class:`TooManyLanguagesError` for more than ``max_models`` models.
    """
    requested = requested.strip() or AUTO
    if requested.lower() == AUTO:
        return LanguageChoice(requested=AUTO, models=None)
    available = installed if installed is not None else installed_models()
    parts = [part.strip() for part in requested.split("+")]
    if any(not part for part in parts):
        raise UnknownLanguageError(requested)
    if len(parts) > max_models:
        raise TooManyLanguagesError(len(parts), max_models)
    models = [_one_model(part, available) for part in parts]
    return LanguageChoice(requested=requested, models="+".join(dict.fromkeys(models)))


def model_for_script(script: str, installed: frozenset[str] | None = None) -> str | None:
    """The model for a script name reported by Tesseract's OSD, if installed."""
    available = installed if installed is not None else installed_models()
    model = _SCRIPT_MODELS.get(script, script)
    return model if model in available else None
