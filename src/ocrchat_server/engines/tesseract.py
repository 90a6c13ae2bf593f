"""The cpu tier's Tesseract: one ``image_to_data`` reading a page, models kept loaded.

That one reading gives every word with its line, paragraph, box and confidence;
the page text, the line blocks and the Markdown are all built from it, so the
text is the same as the same Tesseract's ``tesseract IMAGE - -l LANG`` prints
(words joined by spaces, lines by newlines, paragraphs by a blank line). The calls
go through :mod:`.tesseract_api`, which keeps each model set loaded in the worker.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
import numpy
import tesserocr
from PIL import Image

from ocrchat.models import BBox, Page, Table, Word
from ocrchat_server.engines import tesseract_api
from ocrchat_server.engines.base import EngineError, PageReading, declared_dpi, on_white
from ocrchat_server.engines.detection import (
    DetectedLanguage,
    detect_languages,
    detect_main_language,
    letter_count,
    models_of,
)
from ocrchat_server.engines.languages import installed_models, model_for_script
from ocrchat_server.engines.lexicon import greek_corrected, greek_words
from ocrchat_server.engines.page_text import TextLine, build_page, common_confidence
from ocrchat_server.engines.scripts import (
    FRAKTUR_MODELS,
    GREEK_MODELS,
    greek_models_for,
    greek_share,
    ppocr_reads,
)
from ocrchat_server.engines.tables import find_tables
from ocrchat_server.engines.tesseract_api import TesseractCallError
from ocrchat_server.engines.words import enclosing, layer_words

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocrchat_server.engines.base import Word as LayerWord
    from ocrchat_server.engines.languages import LanguageChoice

_WORD_LEVEL = 5
_LINE_LEVEL = 4
_BLOCK_LEVEL = 2
_BLOCK_MARGIN = 10
"""Pixels around a block of Tesseract's layout read again alone (its glyphs' edges)."""
_GREEK_BLOCKS_AT_MOST = 2
"""Blocks read again alone for Greek quoted outside a page's sample. Each read costs a
layout analysis of its own: on the Campbell commentary (15 blocks, 9 with unsure lines)
the 9 blocks one by one took 4.0 s, the whole page with Greek added 1.7 s, and its
reading with ``eng`` 0.9 s (2 cores, November 2026)."""
# OSD's orientation confidence below which we leave the page as it is:
# a sparse or non-text page gives near-zero confidence and a random angle.
_MIN_ORIENTATION_CONFIDENCE = 2.0
# On such a page OSD's script is often noise too (handwriting came out "Korean",
# "Arabic", "Japanese" on the corpus), unless the script itself is clear.
_MIN_SCRIPT_CONFIDENCE_ALONE = 5.0
# A reading less confident than this is too garbled to tell its language from: a
# script model's misreading of another script looks like some language to lingua.
_MIN_CONFIDENCE_TO_DETECT = 0.5
_PROBE_PIXELS = 2_500_000
_PROBE_MIN_SHRINK = 0.8
"""A page already near the probe's size is probed as it is, and the probe may be kept."""
# Script models that stand for a typeface, not a script: the languages lingua finds in
# them (German) have models for the everyday typeface, which read them worse (corpus
# Fraktur pages: CER 0.157 with deu against 0.128 with Fraktur).
_TYPEFACE_MODELS = frozenset({"Fraktur"})
_CH_LIGATURE = "<"
"""Tesseract's Fraktur models (``frk``, ``Fraktur``) write ``<``, a character of their
set, for the ``ch`` ligature of Fraktur type: 8 of the 25 ``ch`` on the corpus's Fraktur
commentary page (tessdata issue 102 reports the ligatures misread)."""
_BAND_SHARE = 0.06
"""Each band of a page's sample: this share of its text block's height (3 to 4 lines of a
dense page), at least ``_MIN_BAND_ROWS``."""
_MIN_BAND_ROWS = 48
_MAX_SAMPLE_SHARE = 0.5
"""A text block so short that three bands would hold half of it is probed whole."""
_SAMPLE_LETTERS = 250
"""Bands are read until the sample names a language (:meth:`_Sample.main_language`: at
least ``_MIN_SAMPLE_LETTERS``), holds this many letters, or all three are read."""
_MIN_SAMPLE_LETTERS = 80
"""lingua tells a language from this much legible text taken together, not from less."""
_MIN_SAMPLE_CONFIDENCE = 0.7
"""A sample read less confidently is too garbled for so little text to name its language
(a camera photo's Czech came out Slovak, a handwritten French table English): the whole
page is probed instead."""
_UPRIGHT_CONFIDENCE = 0.7
"""A sample the Latin model reads at least this confidently is upright Latin-script text,
and OSD would add nothing. Measured by hand (November 2026): the corpus's pages turned 90,
180 or 270 degrees read at 0.52 at most, rendered pages of Greek, Russian, Hindi, Arabic or
Chinese at 0.54 at most; its upright printed Latin pages at 0.63 to 0.91, but for a camera
photo (0.27) and Fraktur (0.46 to 0.54), which OSD then looks at."""
_MIN_WORD_CONFIDENCE = 70
"""A sample's words read less confidently than this (of 100) do not say its language."""
_INK_AGAINST_PAPER = 0.6
_INKED_ROW = 0.002
_UNSURE_LINE = 0.6
"""A line read with a mean word confidence below this may be in another script..."""
_GREEK_LINE_LETTERS = 8
"""... when it holds this many letters (shorter ones are page numbers, sigla, noise)."""
_GREEK_WITNESSES = 3
"""Lines a page must have that read at least ``_GREEK_SURER`` more confidently with the
Greek model, alone, to be read with it..."""
_GREEK_TRIES = 5
"""... of at most this many of its unsure lines, the longest (the reading stops as soon as
the count is made, or cannot be). Of the 8 longest, the three pages of the corpus that
quote Greek had 4 to 8 so, the eleven others none."""
_GREEK_SURER = 0.15
_SAMPLE_GREEK_WITNESSES = 2
"""Lines of a page's sample that read as Greek (as above) for the page to be read with the
Greek model from the first: its few lines must do with fewer witnesses."""
_FALLBACK_MODELS = ("Latin", "eng")
# OSD gives up below 50 characters by default, and a short page then got the Latin
# model whatever its script. A second try with 10 finds the script of a short page;
# not the first try, because fewer characters also make its orientation less sure.
_OSD_MIN_CHARACTERS = 10
ENGINE_NAME = "tesseract"


class TesseractWord(NamedTuple):
    text: str
    confidence: float
    """0 to 1; -1 where Tesseract gives none."""
    bbox: BBox


@attrs.frozen
class TesseractEngine:
    """Reads pages with Tesseract. ``auto`` runs OSD first: script and orientation."""

    read_tables: bool = False
    """Find tables too (the extract-tables tool): see :mod:`.tables`."""

    def read_page(
        self,
        image: Image.Image,
        *,
        index: int,
        language: LanguageChoice,
        script: tuple[list[str], int] | None = None,
    ) -> PageReading:
        """``script``: what :meth:`detect_script` said of this page, when the caller asked
        already (``auto`` then skips OSD)."""
        image, dpi = prepare_image(image)
        rotation = 0
        detected: list[DetectedLanguage] | None = None
        if language.models is not None:
            models = language.models
            data = self._read(image, models, dpi, index)
        else:
            image, rotation, models, detected, data = self._read_auto(image, dpi, index, script)
        tables = find_tables(image, models, dpi) if self.read_tables else []
        page, words = _page_from_data(
            data, index=index, size=image.size, models=models, rotation=rotation, tables=tables
        )
        if detected is not None:
            page = attrs.evolve(page, detected_languages=[found.code for found in detected])
        return PageReading(page=page, image=image, words=words, dpi=dpi)

    def _read_auto(
        self,
        image: Image.Image,
        dpi: int | None,
        index: int,
        script: tuple[list[str], int] | None,
    ) -> tuple[Image.Image, int, str, list[DetectedLanguage], dict[str, Any]]:
        """Read a page of unknown language: the page turned upright, its turn, the models
        it was read with, the languages found, and the reading.

        Tesseract's time goes with the text it recognizes, not with the pixels (each line
        is scaled to one height), so a page probed at a lower resolution costs nearly
        what it costs at full. A sample does not: one to three bands of a few lines cut
        across the text block (:func:`text_bands`), read with the script model, tell the
        page's main language at a tenth to a quarter of a reading (its words read with
        confidence, taken as a whole and paragraph by paragraph, must agree). The page
        is read once with that language's model;
        the languages of that reading are what the page reports, and the page is read
        again only when they differ (a second language the sample missed).

        OSD (a fifth of a reading more) runs only when the sample, read with the Latin
        model, is not confidently upright Latin text: a page turned, in another script,
        or too sparse to tell. A page in a typeface model's script (Fraktur) needs no
        sample: that model reads it whatever its language.
        """
        fallback = _fallback_model()
        sample = None
        if script is None:
            sample = _read_sample(image, dpi, [fallback], index)
            if sample is not None and sample.upright():
                script = ([fallback], 0)
            else:
                script = self.detect_script(image, dpi)
        candidates, rotation = script
        if rotation:
            # OSD says how far to turn clockwise; PIL turns counter-clockwise.
            image = image.rotate(-rotation, expand=True)
        if candidates[0] in _TYPEFACE_MODELS and len(candidates) == 1:
            models = candidates[0]
            data = self._read(image, models, dpi, index)
            detected = _languages_read(data, image.size, models)
            models, detected, data = self._with_greek(image, dpi, index, models, detected, data)
            return image, rotation, models, detected, data
        if sample is None or rotation or candidates != [sample.model]:
            sample = _read_sample(image, dpi, candidates, index)
        main = sample.main_language() if sample is not None else None
        if sample is None or main is None:  # too little text in the sample: the whole page
            models, detected, probe_data = self._choose_models(image, dpi, candidates, index)
            data = probe_data or self._read(image, models, dpi, index)
            models, detected, data = self._with_greek(image, dpi, index, models, detected, data)
            return image, rotation, models, detected, data
        typeface = sample.model in _TYPEFACE_MODELS
        models = sample.model if typeface else main.model
        greek = sample.greek_quoted()
        if greek is not None:
            # Greek quoted in the sample: one reading with both, its languages reported
            models = f"{models}+{greek}"
            data = self._read(image, models, dpi, index)
            return image, rotation, models, _languages_read(data, image.size, models), data
        data = self._read(image, models, dpi, index)
        quoting = self._with_greek_blocks(image, dpi, index, models, data)
        if quoting is not None:
            # its languages read with Greek: the Greek read as gibberish is gone
            return image, rotation, *quoting
        detected = detect_languages(_paragraphs(data, image.size, models)) or [main]
        found = models_of(detected)
        if not typeface and found != models:
            models = found
            data = self._read(image, models, dpi, index)
        return image, rotation, models, detected, data

    def _with_greek_blocks(
        self,
        image: Image.Image,
        dpi: int | None,
        index: int,
        models: str,
        data: dict[str, Any],
    ) -> tuple[str, list[DetectedLanguage], dict[str, Any]] | None:
        """As :meth:`_with_greek`, for a page whose sample named its language: Greek the
        sample did not show (a quotation further down) is read where it lies. When the
        reading's unsure lines are Greek, the blocks of Tesseract's layout that hold them
        are read again alone with Greek added, up to :data:`_GREEK_BLOCKS_AT_MOST` blocks.
        A page with Greek in more blocks is left as read: reading it again whole made
        ``auto`` cost 1.45x to 1.66x a named language on the throughput bench, for one page
        of a classical commentary (name ``eng+grc``, or use the default engine, for such
        pages). None where the page is left as read."""
        greek = _greek_found(image, data, dpi, models)
        if greek is None:
            return None
        models = f"{models}+{greek}"
        # every block with a line the reading was unsure of, not only the Greek lines tried
        blocks = _blocks_holding(data, [box for _, box, _ in _unsure_lines(data)])
        if len(blocks) > _GREEK_BLOCKS_AT_MOST:
            return None  # Greek all through the page: see the constant
        readings = {}
        for number, (left, top, right, bottom) in blocks.items():
            margin = _BLOCK_MARGIN
            box = (
                max(0, left - margin),
                max(0, top - margin),
                min(image.width, right + margin),
                min(image.height, bottom + margin),
            )
            readings[number] = (box[:2], self._read(image.crop(box), models, dpi, index))
        data = _with_blocks_replaced(data, readings)
        return models, _languages_read(data, image.size, models), data

    def _with_greek(
        self,
        image: Image.Image,
        dpi: int | None,
        index: int,
        models: str,
        detected: list[DetectedLanguage],
        data: dict[str, Any],
    ) -> tuple[str, list[DetectedLanguage], dict[str, Any]]:
        """The models, languages and reading of a Latin-script page, read again with Greek
        added where its unsure lines are Greek (quoted in a classical commentary, a
        scientific text): a Latin model reads Greek as gibberish that a language detector
        takes for Swahili or Yoruba, so the reading's languages do not show it. For pages
        that took a typeface model or a whole-page probe, whose reading costs more anyway."""
        greek = _greek_found(image, data, dpi, models)
        if greek is None:
            return models, detected, data
        models = f"{models}+{greek}"
        data = self._read(image, models, dpi, index)
        return models, _languages_read(data, image.size, models), data

    def _choose_models(
        self, image: Image.Image, dpi: int | None, candidates: list[str], index: int
    ) -> tuple[str, list[DetectedLanguage], dict[str, Any] | None]:
        """The models to read the page with, the languages found, and the reading when the
        probe already is it (for a page whose sample held too little text).

        The page is probed with the script model(s) at about 150 dpi; the probe's text is
        only asked what language it is in.
        """
        probe, scale = _probe_copy(image)
        probe_dpi = round(dpi * scale) if dpi else None
        readings = [(self._read(probe, m, probe_dpi, index), m) for m in candidates]
        data, script_model = max(readings, key=lambda reading: _data_confidence(reading[0]))
        detected = _languages_read(data, probe.size, script_model)
        models = models_of(detected) or script_model
        if script_model in _TYPEFACE_MODELS:
            models = script_model
        same = probe is image and models == script_model
        return models, detected, data if same else None

    def _read(self, image: Image.Image, models: str, dpi: int | None, index: int) -> dict[str, Any]:
        return read_data(image, models, dpi, index)

    def detect_script(self, image: Image.Image, dpi: int | None) -> tuple[list[str], int]:
        """The models worth a first reading, and the rotation, from Tesseract's OSD.

        A page OSD is sure of gets its script's model. On a page it is unsure of
        (little text, handwriting) its script is often wrong, so that page is read
        with Latin too and the more confident reading wins.
        """
        installed = installed_models()
        fallback = _fallback_model()
        osd = _osd(image, dpi) or _osd(image, dpi, min_characters=_OSD_MIN_CHARACTERS)
        if osd is None:
            return [fallback], 0  # no text to tell from, or a blank page
        rotation = int(osd.get("rotate", 0)) % 360
        oriented = float(osd.get("orientation_conf", 0.0)) >= _MIN_ORIENTATION_CONFIDENCE
        if not oriented:
            rotation = 0
        model = model_for_script(str(osd.get("script", "")), installed) or fallback
        if not oriented and float(osd.get("script_conf", 0.0)) < _MIN_SCRIPT_CONFIDENCE_ALONE:
            return list(dict.fromkeys([model, fallback])), rotation
        return [model], rotation


def read_data(
    image: Image.Image,
    models: str,
    dpi: int | None,
    index: int,
    *,
    psm: int = tesserocr.PSM.AUTO,
) -> dict[str, Any]:
    """Tesseract's ``image_to_data`` of the image: every block, paragraph, line and word.

    ``dpi``: the resolution the page's file declares (``--dpi``); None lets Tesseract
    estimate it from the text's size, as the command does.
    """
    try:
        data = tesseract_api.read_data(image, models, dpi=dpi, psm=psm)
    except TesseractCallError as exc:
        raise EngineError(f"Tesseract could not read page {index + 1}: {exc}") from exc
    read_with = models.split("+")
    if FRAKTUR_MODELS & set(read_with):
        data["text"] = [_with_ch_ligature(str(text)) for text in data["text"]]
    greek = next((model for model in read_with if model in GREEK_MODELS), None)
    if greek is not None:
        listed = greek_words(greek)
        data["text"] = [
            greek_corrected(str(text), listed) if greek_share(str(text)) > 0 else text
            for text in data["text"]
        ]
    return data


def _with_ch_ligature(word: str) -> str:
    """A word of Tesseract's Fraktur models with their ``<`` for the ``ch`` ligature put
    back as ``ch`` ("für<tet", "Fur<t"), or as ``h`` where the ``c`` was read on its own
    ("durc<"). A ``<`` that touches no letter stays."""
    if _CH_LIGATURE not in word:
        return word
    letters = list(word)
    for i, character in enumerate(word):
        before, after = word[i - 1 : i], word[i + 1 : i + 2]
        if character == _CH_LIGATURE and (before.isalpha() or after.isalpha()):
            letters[i] = "h" if before == "c" else "ch"
    return "".join(letters)


def words_by_line(data: dict[str, list[Any]]) -> dict[tuple[int, int, int], list[TesseractWord]]:
    """The words of an ``image_to_data`` reading, by line (block, paragraph, line)."""
    lines: dict[tuple[int, int, int], list[TesseractWord]] = {}
    for i, level in enumerate(data["level"]):
        text = str(data["text"][i]).strip()
        if level == _WORD_LEVEL and text:
            left, top = data["left"][i], data["top"][i]
            box = (left, top, left + data["width"][i], top + data["height"][i])
            confidence = float(data["conf"][i])
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            word = TesseractWord(text, confidence / 100 if confidence >= 0 else -1.0, box)
            lines.setdefault(key, []).append(word)
    return lines


def text_line(
    words: Sequence[TesseractWord], bbox: BBox, texts: Sequence[str] | None = None
) -> TextLine:
    """Tesseract's words as a line of the page in ``bbox``, each word with its own box and
    confidence (the line's, where Tesseract gives it none); ``texts``: the words' text,
    where it is not Tesseract's."""
    scores = [
        common_confidence(ENGINE_NAME, word.confidence) if word.confidence >= 0 else None
        for word in words
    ]
    known = [score for score in scores if score is not None]
    line_score = round(statistics.fmean(known), 4) if known else 0.0
    texts = [word.text for word in words] if texts is None else list(texts)
    return TextLine(
        words=texts,
        confidences=known,
        bbox=bbox,
        engine=ENGINE_NAME,
        boxed=tuple(
            Word(
                text=text,
                bbox=word.bbox,
                confidence=line_score if score is None else round(score, 4),
            )
            for text, word, score in zip(texts, words, scores, strict=True)
        ),
    )


def _fallback_model() -> str:
    """The model for a page whose script is not known: Latin, else what is installed."""
    installed = installed_models()
    return next(m for m in (*_FALLBACK_MODELS, *sorted(installed)) if m in installed)


@attrs.frozen
class _Sample:
    """A reading of a page's text sample (:func:`text_bands`)."""

    model: str
    confidence: float
    """Mean word confidence, 0 to 1."""
    text: str
    bands: tuple[tuple[Image.Image, dict[str, Any]], ...] = attrs.field(default=(), eq=False)
    """The bands read, each with its reading..."""
    dpi: int | None = None
    """... at this resolution."""

    def greek_quoted(self) -> str | None:
        """The Greek model, where lines of the sample its model was unsure of read as
        Greek; else None."""
        greek = _greek_model_for(self.model)
        if greek is None:
            return None
        witnesses = 0
        for band, data in self.bands:
            needed = _SAMPLE_GREEK_WITNESSES - witnesses
            witnesses += len(_greek_lines(band, data, self.dpi, greek, needed))
            if witnesses >= _SAMPLE_GREEK_WITNESSES:
                return greek
        return None

    def upright(self) -> bool:
        """Read confidently enough to be upright text in the model's script."""
        return self.confidence >= _UPRIGHT_CONFIDENCE

    def main_language(self) -> DetectedLanguage | None:
        """The sample's language, where it held enough legible text to tell."""
        if self.confidence < _MIN_SAMPLE_CONFIDENCE:
            return None
        if letter_count(self.text) < _MIN_SAMPLE_LETTERS:
            return None
        whole = detect_main_language(self.text)
        by_paragraph = detect_languages(self.text.split("\n\n"))
        # both ways of asking must agree; where they do not, the sample is mixed or
        # ambiguous, and the whole page is probed instead
        if whole is None or not by_paragraph or by_paragraph[0].model != whole.model:
            return None
        return whole


def _read_sample(
    image: Image.Image, dpi: int | None, candidates: list[str], index: int
) -> _Sample | None:
    """The page's text sample read with each candidate model; the most confident reading.
    None for a page too small or too empty to sample.

    The bands (:func:`text_bands`) are read one at a time, the middle one first, until
    the sample holds enough letters to name a language: a dense page stops after one.
    """
    probe, scale = _probe_copy(image)
    bands = text_bands(probe)
    if not bands:
        return None
    band_dpi = round(dpi * scale) if dpi else None
    readings = []
    for model in candidates:
        texts: list[str] = []
        confidences: list[float] = []
        read: list[tuple[Image.Image, dict[str, Any]]] = []
        for band in bands:
            # one block of lines: no column or vertical-text finding, which on a band of a
            # page lying on its side read its lines' pieces as vertical text, confidently
            data = read_data(band, model, band_dpi, index, psm=tesserocr.PSM.SINGLE_BLOCK)
            confidences.extend(_word_confidences(data))
            texts.append(_confident_text(data))
            read.append((band, data))
            sample = _sample_of(model, confidences, texts, read, band_dpi)
            # enough once it names a language; a wrong name costs a second reading of the
            # page, never the text: the page's reading is checked again (_read_auto)
            if letter_count(sample.text) >= _SAMPLE_LETTERS or sample.main_language():
                break
        readings.append(sample)
    return max(readings, key=lambda reading: reading.confidence)


def _sample_of(
    model: str,
    confidences: list[float],
    texts: list[str],
    bands: list[tuple[Image.Image, dict[str, Any]]],
    dpi: int | None,
) -> _Sample:
    confidence = statistics.fmean(confidences) / 100 if confidences else 0.0
    text = "\n\n".join(t for t in texts if t)
    return _Sample(model=model, confidence=confidence, text=text, bands=tuple(bands), dpi=dpi)


def _greek_model_for(models: str) -> str | None:
    """The Greek model to try on the unsure lines of a reading with ``models``: None where
    none is installed, or the page is not read as Latin script (or has Greek already)."""
    return greek_models_for(None) if ppocr_reads(models) else None


def _greek_found(
    image: Image.Image, data: dict[str, Any], dpi: int | None, models: str
) -> str | None:
    """The Greek model, where at least :data:`_GREEK_WITNESSES` lines of a reading with
    ``models`` are Greek (:func:`_greek_lines`); else None."""
    greek = _greek_model_for(models)
    if greek is None:
        return None
    witnesses = _greek_lines(image, data, dpi, greek, _GREEK_WITNESSES)
    return greek if len(witnesses) >= _GREEK_WITNESSES else None


def _greek_lines(
    image: Image.Image, data: dict[str, Any], dpi: int | None, greek: str, needed: int
) -> list[BBox]:
    """The boxes of lines of a reading that its model was unsure of and that are Greek, up
    to ``needed`` of them: the longest unsure lines are read again alone with the Greek
    model, and a line that reads far more surely so is Greek (a line mixing Greek and the
    page's own language often does not)."""
    tried = sorted(_unsure_lines(data), key=lambda line: -line[0])[:_GREEK_TRIES]
    surer: list[BBox] = []
    for number, (_, box, confidence) in enumerate(tried):
        if len(surer) >= needed or len(surer) + len(tried) - number < needed:
            break  # counted enough, or too few lines left to count enough
        left, top, right, bottom = box
        margin = max(2, (bottom - top) // 4)
        crop = image.crop(
            (max(0, left - margin), max(0, top - margin), right + margin, bottom + margin)
        )
        line = read_data(crop, greek, dpi, 0, psm=tesserocr.PSM.SINGLE_LINE)
        if _data_confidence(line) >= confidence + _GREEK_SURER:
            surer.append(box)
    return surer


def _unsure_lines(data: dict[str, Any]) -> list[tuple[int, BBox, float]]:
    """The lines of a reading of at least :data:`_GREEK_LINE_LETTERS` letters that its
    model was unsure of: each line's letters, box and mean word confidence."""
    unsure = []
    for words in words_by_line(data).values():
        letters = sum(letter_count(word.text) for word in words)
        known = [word.confidence for word in words if word.confidence >= 0]
        if letters >= _GREEK_LINE_LETTERS and known and statistics.fmean(known) < _UNSURE_LINE:
            box = enclosing(word.bbox for word in words)
            unsure.append((letters, box, statistics.fmean(known)))
    return unsure


def _blocks_holding(data: dict[str, Any], lines: list[BBox]) -> dict[int, BBox]:
    """The blocks of a reading (by number, with their boxes) that hold the middle of any
    of ``lines``."""
    held = {}
    for i, level in enumerate(data["level"]):
        if level != _BLOCK_LEVEL:
            continue
        left, top = data["left"][i], data["top"][i]
        box = (left, top, left + data["width"][i], top + data["height"][i])
        for x0, y0, x1, y1 in lines:
            middle_x, middle_y = (x0 + x1) / 2, (y0 + y1) / 2
            if box[0] <= middle_x <= box[2] and box[1] <= middle_y <= box[3]:
                held[data["block_num"][i]] = box
                break
    return held


def _with_blocks_replaced(
    data: dict[str, Any], readings: dict[int, tuple[tuple[int, int], dict[str, Any]]]
) -> dict[str, Any]:
    """``data`` with each block in ``readings`` given the reading of its crop instead (the
    crop's top-left corner, and its reading), in the block's place in the reading order.
    The crop's blocks are numbered after the block (its number times 1000 and theirs), so
    that every line keeps a key of its own."""
    spliced: dict[str, list[Any]] = {column: [] for column in data}
    for i, level in enumerate(data["level"]):
        number = data["block_num"][i]
        if number not in readings or level < _BLOCK_LEVEL:
            for column in data:
                spliced[column].append(data[column][i])
            continue
        if level != _BLOCK_LEVEL:
            continue  # the old reading's paragraphs, lines and words of the block
        (left, top), crop = readings[number]
        for k, crop_level in enumerate(crop["level"]):
            if crop_level < _BLOCK_LEVEL:
                continue
            for column in data:
                value = crop[column][k]
                if column == "left":
                    value += left
                elif column == "top":
                    value += top
                elif column == "block_num":
                    value += number * 1000
                spliced[column].append(value)
    return spliced


def text_bands(image: Image.Image) -> list[Image.Image]:
    """Bands cut across the page's text block: from its middle, then a quarter of the way
    down, then three quarters, so a heading or a table alone does not decide. Each cut is
    moved to the emptiest row near it, between lines. Empty where the text block is too
    short for a sample to save anything (the whole page is probed)."""
    grey = image.convert("L")
    pixels = numpy.asarray(grey)
    paper = int(numpy.median(pixels))
    # a row's share of pixels clearly darker than the paper (a grey scan has grey paper)
    ink = (pixels < paper * _INK_AGAINST_PAPER).mean(axis=1)
    rows = numpy.nonzero(ink > _INKED_ROW)[0]
    if rows.size == 0:
        return []
    top, bottom = int(rows[0]), int(rows[-1])
    band = max(_MIN_BAND_ROWS, (bottom - top) * _BAND_SHARE)
    if 3 * band > (bottom - top) * _MAX_SAMPLE_SHARE:
        return []
    reach = max(1, round(band / 5))

    def emptiest_row_near(row: int) -> int:
        start, stop = max(0, row - reach), min(len(ink), row + reach + 1)
        return start + int(numpy.argmin(ink[start:stop]))

    bands = []
    for place in (1 / 2, 1 / 4, 3 / 4):
        centre = top + (bottom - top) * place
        upper = emptiest_row_near(round(centre - band / 2))
        lower = emptiest_row_near(round(centre + band / 2))
        if lower > upper:
            bands.append(grey.crop((0, upper, grey.width, lower)))
    return bands


def _paragraphs(data: dict[str, Any], size: tuple[int, int], models: str) -> list[str]:
    """A reading's paragraphs, as the page's text gives them."""
    page, _ = _page_from_data(data, index=0, size=size, models=models)
    return page.text.split("\n\n")


def _languages_read(
    data: dict[str, Any], size: tuple[int, int], models: str
) -> list[DetectedLanguage]:
    """The languages of a reading's paragraphs; none for a reading too unsure to judge."""
    if _data_confidence(data) < _MIN_CONFIDENCE_TO_DETECT:
        return []
    return detect_languages(_paragraphs(data, size, models))


def _confident_text(data: dict[str, Any]) -> str:
    """The words of a reading read with some confidence, by paragraph: a script model's
    guesses at what it cannot read (Greek in a Latin page comes out as accented
    gibberish) look like some other language to a detector (Yoruba, Swahili)."""
    paragraphs: dict[tuple[int, int], list[str]] = {}
    for i, level in enumerate(data["level"]):
        text = str(data["text"][i]).strip()
        if level == _WORD_LEVEL and text and float(data["conf"][i]) >= _MIN_WORD_CONFIDENCE:
            paragraphs.setdefault((data["block_num"][i], data["par_num"][i]), []).append(text)
    return "\n\n".join(" ".join(words) for words in paragraphs.values())


def _probe_copy(image: Image.Image) -> tuple[Image.Image, float]:
    """The page scaled down to about 2.5 million pixels (150 dpi A4), and the scale."""
    scale = min(1.0, (_PROBE_PIXELS / (image.width * image.height)) ** 0.5)
    if scale > _PROBE_MIN_SHRINK:
        return image, 1.0
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Pillow shrinks bilevel and palette images by dropping pixels: grey keeps thin strokes
    grey = image.convert("L") if image.mode in ("1", "P") else image
    return grey.resize(size, Image.Resampling.LANCZOS), scale


def _data_confidence(data: dict[str, Any]) -> float:
    """Mean word confidence of a reading, 0 to 1 (0 when it found no words)."""
    confidences = _word_confidences(data)
    return statistics.fmean(confidences) / 100 if confidences else 0.0


def _word_confidences(data: dict[str, Any]) -> list[float]:
    """Each word's confidence in a reading, 0 to 100."""
    return [
        float(conf)
        for conf, text, level in zip(data["conf"], data["text"], data["level"], strict=True)
        if level == _WORD_LEVEL and str(text).strip() and float(conf) >= 0
    ]


def osd_orientation(image: Image.Image, dpi: int | None) -> tuple[int, float] | None:
    """How far OSD would turn the page clockwise, and its confidence; None: no answer."""
    osd = _osd(image, dpi)
    if osd is None:
        return None
    return int(osd.get("rotate", 0)) % 360, float(osd.get("orientation_conf", 0.0))


def osd_script(image: Image.Image, dpi: int | None) -> str | None:
    """The script Tesseract's OSD names for the page (``Latin``, ``Fraktur``, ...), if any."""
    osd = _osd(image, dpi)
    return str(osd.get("script", "")) or None if osd else None


def _osd(
    image: Image.Image, dpi: int | None, *, min_characters: int | None = None
) -> dict[str, Any] | None:
    try:
        return tesseract_api.orientation_and_script(image, dpi=dpi, min_characters=min_characters)
    except TesseractCallError:
        return None  # no osd model, or an image it cannot take: no answer, as on a blank page


def prepare_image(image: Image.Image) -> tuple[Image.Image, int | None]:
    """A copy in a mode Tesseract reads (1, L, P or RGB), and the resolution the file
    declares. Transparent pages are laid on white; 16-bit grey is scaled to 8 bits.
    """
    resolution = declared_dpi(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = on_white(image)
    elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode not in ("1", "L", "P", "RGB"):
        image = image.convert("RGB")
    else:
        image = image.copy()
    image.format = None
    return image, resolution


def _page_from_data(
    data: dict[str, list[Any]],
    *,
    index: int,
    size: tuple[int, int],
    models: str,
    rotation: int = 0,
    tables: list[Table] | None = None,
) -> tuple[Page, list[LayerWord]]:
    line_boxes = {
        (data["block_num"][i], data["par_num"][i], data["line_num"][i]): (
            data["left"][i],
            data["top"][i],
            data["left"][i] + data["width"][i],
            data["top"][i] + data["height"][i],
        )
        for i, level in enumerate(data["level"])
        if level == _LINE_LEVEL
    }
    paragraphs: list[list[TextLine]] = []
    previous_paragraph: tuple[int, int] | None = None
    for key, line_words in words_by_line(data).items():  # in Tesseract's reading order
        line = text_line(line_words, line_boxes[key])
        if key[:2] != previous_paragraph:
            paragraphs.append([])
            previous_paragraph = key[:2]
        paragraphs[-1].append(line)
    page = build_page(
        paragraphs,
        index=index,
        size=size,
        models=models,
        engine=ENGINE_NAME,
        rotation=rotation,
        tables=tables,
    )
    return page, layer_words(page)
