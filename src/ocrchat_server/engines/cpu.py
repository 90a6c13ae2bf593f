"""The cpu tier: PP-OCRv6 and Tesseract, each reading what it reads best.

``engine=auto`` (the default):

- Latin-script and Chinese/Japanese pages are read by PP-OCRv6. Its lines are
  put in reading order (:mod:`.reading_order`) and grouped into paragraphs.
  Lines it reads as Greek (PP-OCRv6 has monotonic Greek letters only, and
  mangles polytonic Greek) are taken from Tesseract's reading of the whole
  page with its Greek model, made once for a page that has any.
- Pages in other scripts (Cyrillic, Arabic, Indic, Hangul ...) are read by
  Tesseract, as are languages named that PP-OCRv6 does not know.
- With ``language=auto``, PP-OCRv6 reads first. A page it reads with
  confidence and full lines stays its reading, and lingua names the languages
  of that text. A page it reads poorly or not at all goes through Tesseract's
  orientation and script detection (:class:`.TesseractEngine`), and its
  script decides: PP-OCRv6 again (turned upright where it was not), or
  Tesseract's reading.

``engine=tesseract`` is Tesseract alone (the text of ``tesseract IMAGE -``),
``engine=ppocr`` PP-OCRv6 alone, whatever the script.
"""

from __future__ import annotations

import functools
import itertools
import math
import statistics
import time
from typing import TYPE_CHECKING, Any

import attrs
from PIL import Image

from ocrchat_server.engines import ppocr
from ocrchat_server.engines.base import PageReading
from ocrchat_server.engines.detection import detect_languages, models_of
from ocrchat_server.engines.languages import installed_models
from ocrchat_server.engines.lexicon import (
    all_listed,
    lexicon,
    long_s_words,
    printed_with_long_s,
    spell_page,
    with_long_s,
)
from ocrchat_server.engines.list_numbers import mended_numbers
from ocrchat_server.engines.page_text import TextLine, build_page, common_confidence
from ocrchat_server.engines.preparation import (
    DESKEW,
    LEAST_DESKEW,
    LEXICON,
    LONG_S,
    STEPS,
    UPRIGHT,
    PreparedPage,
    prepare_page,
    turned_back,
    turned_by,
)
from ocrchat_server.engines.reading_order import (
    outline,
    page_skew,
    paragraphs,
    reading_order,
    share_inside,
    upright_boxes,
)
from ocrchat_server.engines.scripts import (
    FRAKTUR_MODELS,
    greek_models_for,
    greek_share,
    greek_text_forms,
    hyphenated,
    latin_punctuation,
    ppocr_reads,
    ppocr_reads_but_greek,
    with_fraktur_hyphen,
    writes_cjk,
)
from ocrchat_server.engines.spellings import spellings, token_steps
from ocrchat_server.engines.tables import find_tables
from ocrchat_server.engines.tesseract import (
    TesseractEngine,
    TesseractWord,
    osd_orientation,
    osd_script,
    prepare_image,
    read_data,
    text_line,
    words_by_line,
)
from ocrchat_server.engines.word_forms import WordForms, word_forms
from ocrchat_server.engines.word_frequency import WordFrequencies, word_frequencies
from ocrchat_server.engines.words import (
    aligned_words,
    enclosing,
    join_words,
    layer_words,
    split_words,
)

if TYPE_CHECKING:
    from ocrchat.models import BBox
    from ocrchat_server.engines.languages import LanguageChoice

ENGINES = ("auto", "tesseract", "ppocr")
PPOCR = "ppocr"
TESSERACT = "tesseract"

_TRUSTED_SCORE = 0.85
"""PP-OCRv6's mean character score (weighted by characters) from which its reading of a
page with ``language=auto`` is kept without asking Tesseract's script detection."""
_TRUSTED_FILL = 0.4
"""... and the share of its lines' room that its text fills: a page in a script it lacks
(Cyrillic) comes back as a comma or two on long lines, with a high score."""
_CHARACTER_WIDTH = 0.55
"""A Latin letter's width, in line heights (a CJK character counts twice)."""
_GUTTER_MIN_GAP = 0.5
"""A blank stripe through a line, in line heights, wide enough to be a gutter..."""
_GUTTER_WITNESSES = 2
"""... when this many lines nearby end at its left, and as many start at its right..."""
_GUTTER_REACH = 8
"""... within this many line heights above or below."""
_GUTTER_PASSES = 40
"""At most this many looks at the page for lines run across a gutter, each with the parts
cut before as witnesses (:func:`split_at_gutters`). Each look reaches
:data:`_GUTTER_REACH` line heights further from the lines already apart: on a noisy copy
of the commentary the detector ran all 30 lines of its two note columns together, and
three looks left the lowest 11 joined (1,526 character errors against 206 as printed)."""
_THINNEST_PIECE = 2
"""Pixels across, below which a part of a line cut at a gutter is not read: a stripe can end
a pixel from the line's end (a bilevel scan's ragged edge), and the recognizer fails on
an image with no width."""
_LEAST_SLOPE = 0.5
"""A line sloping less than this (degrees) is cut into pieces as if level."""
_INK_CONTRAST = 60
"""Grey levels from the paper (below it, or above it on a negative) that count as ink when
looking for blank stripes."""
_INKED_NEIGHBOURS = 5
"""Of a pixel's 3 x 3 neighbourhood (itself included), how many must be ink for it to count
as ink when looking for blank stripes: a majority, as a median filter keeps. A grainy or
dusty scan's lone dark pixels fill a gutter's stripe otherwise, and it is never cut."""
_FRAKTUR = "Fraktur"
"""OSD's name for Fraktur type."""
_TYPEFACE_SCRIPTS = {_FRAKTUR: "frk"}
"""OSD scripts that are a typeface of Latin, and the model that reads them with Greek."""
_LINE_MATCH = 0.5
"""A Tesseract word belongs to the PP-OCRv6 line holding at least this share of its box."""
_GREEK_CONFIRMED = 0.15
"""Tesseract's reading of a line replaces PP-OCRv6's when this share of its letters is Greek."""
_MARK_LENGTH = 3
_MARKS_HEIGHT = 0.5
"""A line of words of at most :data:`_MARK_LENGTH` characters, at most this share as tall
as the words of the line it lies in, is that line's detached accents read as marks
(:func:`_without_detached_marks`)."""
_LEXICON_PAGE_SCORE = 0.85
"""PP-OCRv6's mean character score from which a page's misreadings are taken for
confusions of print the language's word list can undo (:mod:`.lexicon`). Below it, on
handwriting, its words are guesses, and a word list makes them other wrong words as often
as right ones (the corpus's handwritten pages score 0.73 to 0.83, but for one clear letter
at 0.94). Lines with Greek letters are not counted."""
_LEXICON_LINE_SCORE = 0.85
"""... and the score from which a line of such a page is. At 0.94 for the page and no
limit for its lines (until November 2026), the Czech photo, read at 0.943, lost every
correction when saved as a JPEG at quality 25 (read at 0.935): 50 character errors became
86, where now 56."""
_GREEK_WORD_LETTERS = 2
_GREEK_WORD_SHARE = 0.6
_GREEK_WORD_SURE = 0.8
"""A word Tesseract read with at least this many Greek letters, this share of its letters
Greek and this confidence takes the place of PP-OCRv6's reading of it."""
_SPECK_LENGTH = 2
_SPECK_CONFIDENCE = 0.5


class EngineChoiceError(ValueError):
    """The languages named cannot be read by the engine named."""


def check_engine(engine: str, language: LanguageChoice) -> None:
    """Refuse ``engine=ppocr`` for languages PP-OCRv6 cannot read, before any work."""
    if engine == PPOCR and language.models is not None and not ppocr_reads(language.models):
        raise EngineChoiceError(language.models)


@attrs.frozen
class CpuEngine:
    engine: str = "auto"
    read_tables: bool = False
    preparation: tuple[str, ...] = STEPS
    """The page preparation steps run before PP-OCRv6 reads a page (:mod:`.preparation`)."""

    def read_page(self, image: Image.Image, *, index: int, language: LanguageChoice) -> PageReading:
        started = time.perf_counter()
        tesseract = TesseractEngine(read_tables=self.read_tables)
        if self.engine == TESSERACT:
            return _timed(tesseract.read_page(image, index=index, language=language), {}, started)
        if language.models is not None:
            models = language.models
            with_greek = ppocr_reads_but_greek(models)
            if self.engine == PPOCR or ppocr_reads(models) or with_greek:
                page, dpi = self._prepare(image)
                lines = self._read(page)
                reading = self._ppocr_page(
                    page, dpi, lines, index, models=models,
                    greek_models=models if with_greek else None,
                )  # fmt: skip
                return _timed(reading, page.timings, started)
            return _timed(tesseract.read_page(image, index=index, language=language), {}, started)
        page, dpi = self._prepare(image)
        lines = self._read(page)
        if self.engine == PPOCR or _trustworthy(lines):
            reading = self._ppocr_page(page, dpi, lines, index, models=None, greek_models=None)
            return _timed(reading, page.timings, started)
        # Little or nothing read: a script PP-OCRv6 lacks, or just a hard page.
        # Tesseract's OSD names the script (and the orientation, when no step asked yet).
        candidates, osd_rotation = tesseract.detect_script(page.image, dpi)
        if UPRIGHT in self.preparation:
            osd_rotation = 0  # the orientation classifier has spoken; it is right more often
        if ppocr_reads(candidates[0]):
            if osd_rotation:
                page = _turned(page, osd_rotation)
                lines = self._read(page)
            reading = self._ppocr_page(page, dpi, lines, index, models=None)
            return _timed(reading, page.timings, started)
        reading = tesseract.read_page(
            page.image, index=index, language=language, script=(candidates, osd_rotation)
        )
        if not reading.page.rotation and _reads_better(lines, reading):
            reading = self._ppocr_page(page, dpi, lines, index, models=None)
        elif page.rotation:
            turned = (page.rotation + (reading.page.rotation or 0)) % 360
            reading = attrs.evolve(reading, page=attrs.evolve(reading.page, rotation=turned))
        return _timed(reading, page.timings, started)

    def _read(self, page: PreparedPage) -> list[ppocr.PpocrLine]:
        """The page's lines as PP-OCRv6 reads them: outlined on the page straightened where
        its lines' first outlines show it lies askew (``deskew``)."""
        outlines = ppocr.detect(page.ink)
        if DESKEW in self.preparation:
            started = time.perf_counter()
            skew = page_skew(outlines.boxes, outlines.angles)
            if abs(skew) >= LEAST_DESKEW:
                outlines = ppocr.detected_straight(outlines, skew)
            page.timings[DESKEW] = round(time.perf_counter() - started, 4)
        return ppocr.read_outlined(outlines)

    def _prepare(self, image: Image.Image) -> tuple[PreparedPage, int | None]:
        """The page as PP-OCRv6 should see it, and the resolution its file declares."""
        prepared, dpi = prepare_image(image)
        page = prepare_page(
            prepared,
            self.preparation,
            ask_osd=lambda page: osd_orientation(page, dpi),
            ask_skew=_lines_skew,
        )
        return page, dpi

    def _ppocr_page(
        self,
        page: PreparedPage,
        dpi: int | None,
        found: list[ppocr.PpocrLine],
        index: int,
        *,
        models: str | None,
        greek_models: str | None = None,
    ) -> PageReading:
        image = page.image
        found = split_at_gutters(page.ink, found)
        # a dot of dust or a stain PP-OCRv6 took for a mark: noise in the text, and a box
        # in a gutter that hides it (a microfilm negative's specks)
        found = [
            line for line in found if not _is_speck(line.text, common_confidence(PPOCR, line.score))
        ]
        # a page scanned askew is laid out as if turned upright, its boxes as they are
        boxes, angles = [line.bbox for line in found], [line.angle for line in found]
        skew = page_skew(boxes, angles)
        layout = upright_boxes(boxes, skew, angles)
        order = reading_order(layout)
        grouped = paragraphs(layout, order)
        detected = None
        typeface = None
        if models is None:  # language=auto: the languages of PP-OCRv6's text
            detected = detect_languages(_language_texts(found, grouped))
            models = models_of(detected) or None
            greek_models = greek_models_for(models)
            if greek_models and any(greek_share(line.text) > 0 for line in found):
                # Greek set in German is often set in Fraktur too (classics): OSD tells
                typeface = osd_script(image, dpi)
                if (
                    typeface in _TYPEFACE_SCRIPTS
                    and _TYPEFACE_SCRIPTS[typeface] in installed_models()
                ):
                    greek_models = greek_models_for(_TYPEFACE_SCRIPTS[typeface])
        if models and not writes_cjk(models):
            found = [_in_latin_punctuation(line) for line in found]
        # lines with Greek letters are PP-OCRv6's guesses at a script it has not learnt,
        # read again by Tesseract below: they say nothing of how surely it read the rest
        latin_lines = [line for line in found if greek_share(line.text) == 0]
        fraktur = False
        if models:
            in_fraktur = _set_in_fraktur(models, typeface, found, detected is not None)
            # None: language=auto on a page with the long s, where OSD tells
            fraktur = osd_script(image, dpi) == _FRAKTUR if in_fraktur is None else in_fraktur
        if models and _score(latin_lines) >= _LEXICON_PAGE_SCORE:
            # each step's cost goes with the preparation steps' (the dict is this page's own)
            if LEXICON in self.preparation:
                started = time.perf_counter()
                words = lexicon(models)
                frequencies = word_frequencies(models)
                # old print keeps spellings that predate today's accents ("fidele")
                old_print = fraktur or printed_with_long_s(
                    [line.text.split() for line in found], long_s_words(models), word_forms(models)
                )
                found = (
                    _spelled(found, words, frequencies, fraktur, old_print=old_print)
                    if words
                    else found
                )
                page.timings[LEXICON] = round(time.perf_counter() - started, 4)
            if LONG_S in self.preparation:
                started = time.perf_counter()
                found = _with_long_s(
                    found, long_s_words(models), word_frequencies(models), word_forms(models)
                )
                page.timings[LONG_S] = round(time.perf_counter() - started, 4)
        found = _with_list_numbers(found, order)
        if fraktur:
            found = [_with_fraktur_hyphen(line) for line in found]
        lines = [_from_ppocr(line) for line in found]
        engine = PPOCR
        if greek_models is not None:
            candidates = [i for i, line in enumerate(found) if greek_share(line.text) > 0]
            if candidates:
                data = _read_straightened(image, greek_models, dpi, index, skew)
                reread = _tesseract_lines(
                    data, found, candidates, layout, skew, fraktur=fraktur
                )  # fmt: skip
                for i, tesseract_line in reread.items():
                    lines[i] = tesseract_line
                latin = lexicon(models) if models else frozenset()
                mixed = _with_greek_words(data, found, set(reread), latin, layout, skew)
                for i, line in mixed.items():
                    lines[i] = _from_ppocr(line, engine=f"{PPOCR}+{TESSERACT}")
                if reread or mixed:
                    models = greek_models
                    engine = f"{PPOCR}+{TESSERACT}"
        tables = find_tables(image, models or "eng", dpi) if self.read_tables else []
        read = build_page(
            [[lines[i] for i in group] for group in grouped],
            index=index,
            size=image.size,
            models=models,
            engine=engine,
            rotation=page.rotation,
            tables=tables,
            skew=skew,
        )
        if detected is not None:
            read = attrs.evolve(read, detected_languages=[language.code for language in detected])
        return PageReading(page=read, image=image, words=layer_words(read), dpi=dpi)


def _lines_skew(image: Image.Image) -> float:
    """The slope of the page's lines as PP-OCRv6's detector outlines them, for a page the
    orientation classifier is unsure of (:func:`.preparation.page_rotation`): a detection
    more, on those pages alone."""
    outlines = ppocr.detect(image)
    return page_skew(outlines.boxes, outlines.angles)


def _read_straightened(
    image: Image.Image, models: str, dpi: int | None, index: int, skew: float
) -> dict[str, Any]:
    """Tesseract's reading of the page (:func:`.tesseract.read_data`); of a page scanned
    at least :data:`.preparation.LEAST_DESKEW` degrees askew, of the page turned straight,
    with its boxes turned back onto the page as it lies. Tesseract finds sloping lines
    itself, but reads their Greek worse: on the corpus's three commentaries with Greek,
    turned 2.5 degrees one way and 4 the other, 1,340 character errors as they lay, 1,192
    straightened."""
    if abs(skew) < LEAST_DESKEW:
        return read_data(image, models, dpi, index)
    import numpy

    turned = turned_by(image, skew)
    data = read_data(turned, models, dpi, index)
    left, top = numpy.asarray(data["left"], float), numpy.asarray(data["top"], float)
    right, bottom = left + numpy.asarray(data["width"]), top + numpy.asarray(data["height"])
    corners = numpy.stack(
        [
            numpy.stack([left, top], axis=-1),
            numpy.stack([right, top], axis=-1),
            numpy.stack([right, bottom], axis=-1),
            numpy.stack([left, bottom], axis=-1),
        ],
        axis=1,
    )  # one row of four corners a box
    back = turned_back(corners, skew, turned.size, image.size)
    width, height = image.size
    low = numpy.maximum(0, numpy.rint(back.min(axis=1))).astype(int)
    high = numpy.rint(back.max(axis=1)).astype(int)
    data["left"], data["top"] = low[:, 0].tolist(), low[:, 1].tolist()
    data["width"] = (numpy.minimum(width, high[:, 0]) - low[:, 0]).tolist()
    data["height"] = (numpy.minimum(height, high[:, 1]) - low[:, 1]).tolist()
    return data


def _language_texts(lines: list[ppocr.PpocrLine], grouped: list[list[int]]) -> list[str]:
    """The page's text as lingua is asked about it: paragraph by paragraph, each cut where
    its lines go from mostly Greek letters to not, or back. A verse's number beside it
    makes the verse one paragraph with the commentary below it (their rows follow each
    other); judged whole, the German commentary counted as Greek."""
    texts = []
    for group in grouped:
        for _, run in itertools.groupby(group, key=lambda i: greek_share(lines[i].text) > 0.5):
            texts.append("\n".join(lines[i].text for i in run))
    return texts


def _set_in_fraktur(
    models: str, typeface: str | None, lines: list[ppocr.PpocrLine], auto: bool
) -> bool | None:
    """Whether the page is set in Fraktur, whose capitals PP-OCRv6 confuses: read with a
    Fraktur model, or so OSD found (``typeface``). None under ``language=auto`` (``auto``)
    where nothing has told yet but the page shows the long s, as Fraktur print does (a
    German Fraktur page is named German by its text): OSD is asked then, and only then, so
    that a modern page costs nothing more."""
    if FRAKTUR_MODELS & set(models.split("+")) or typeface == _FRAKTUR:
        return True
    if not auto or typeface is not None:
        return False
    tokens = [line.text.split() for line in lines]
    return None if printed_with_long_s(tokens, long_s_words(models)) else False


def _spelled(
    lines: list[ppocr.PpocrLine],
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    fraktur: bool,
    *,
    old_print: bool = False,
) -> list[ppocr.PpocrLine]:
    """The page's lines with the words PP-OCRv6 confused put right (:mod:`.lexicon`)."""
    tokens = [line.text.split() for line in lines]
    # each word's own score where PP-OCRv6 gave words that match the line's, else the line's
    aligned = [
        bool(line.words) and len(line.words) == len(t)
        for line, t in zip(lines, tokens, strict=True)
    ]
    scored = [
        [(word, line.words[i].score if fits else line.score) for i, word in enumerate(t)]
        for line, t, fits in zip(lines, tokens, aligned, strict=True)
    ]

    @functools.cache
    def steps(i: int) -> list[tuple[int, int]] | None:
        # only for the lines whose words the lexicon asks about
        return token_steps(lines[i].choices, tokens[i])

    def other_spellings(i: int, j: int) -> list[tuple[str, float]]:
        spans, choices = steps(i), lines[i].choices
        return spellings(choices, spans[j]) if spans is not None and choices else []

    # lines read unsurely are guesses too, left as read
    unsure = {i for i, line in enumerate(lines) if line.score < _LEXICON_LINE_SCORE}
    spelled = spell_page(
        scored,
        words,
        frequencies,
        fraktur=fraktur,
        old_print=old_print,
        spellings=other_spellings,
        left_alone=unsure,
    )
    result = []
    for line, t, fits, fixed in zip(lines, tokens, aligned, spelled, strict=True):
        if fixed == t:
            result.append(line)
            continue
        boxed = line.words
        if fits:
            boxed = tuple(
                part
                for word, text in zip(line.words, fixed, strict=True)
                for part in ppocr.split_word(word, text)
            )
        result.append(attrs.evolve(line, text=" ".join(fixed), words=boxed, choices=None))
    return result


def _with_long_s(
    lines: list[ppocr.PpocrLine],
    words: frozenset[str],
    frequencies: WordFrequencies | None,
    forms: WordForms | None,
) -> list[ppocr.PpocrLine]:
    """The page's lines with the long s written where the print has it (:mod:`.lexicon`).
    A letter stands for a letter, so every word keeps its box."""
    tokens = [line.text.split() for line in lines]
    restored = with_long_s(tokens, words, frequencies, forms) if words else None
    if restored is None:
        return lines
    result = []
    for line, before, after in zip(lines, tokens, restored, strict=True):
        if after == before:
            result.append(line)
            continue
        boxed = line.words
        if len(boxed) == len(after):
            boxed = tuple(
                attrs.evolve(word, text=text) for word, text in zip(boxed, after, strict=True)
            )
        result.append(attrs.evolve(line, text=" ".join(after), words=boxed, choices=None))
    return result


def _in_latin_punctuation(line: ppocr.PpocrLine) -> ppocr.PpocrLine:
    """``line`` with the CJK signs PP-OCRv6 read on a page in Latin script as the Latin
    punctuation they look like (:func:`.scripts.latin_punctuation`). Its recognizer's
    choices go with the CJK signs: the lexicon's other spellings are not asked for it."""
    text = latin_punctuation(line.text)
    if text == line.text:
        return line
    words = tuple(attrs.evolve(word, text=latin_punctuation(word.text)) for word in line.words)
    return attrs.evolve(line, text=text, words=words, choices=None)


def _with_list_numbers(lines: list[ppocr.PpocrLine], order: list[int]) -> list[ppocr.PpocrLine]:
    """The page's lines with the list numbers PP-OCRv6 read as letters put right by the
    numbers around them (:func:`.list_numbers.mended_numbers`); ``order``: the lines'
    reading order."""
    firsts = [(lines[i].text.split() or [""])[0] for i in order]
    result = list(lines)
    for place, number in mended_numbers(firsts).items():
        result[order[place]] = _with_word(lines[order[place]], 0, number)
    return result


def _with_fraktur_hyphen(line: ppocr.PpocrLine) -> ppocr.PpocrLine:
    """A Fraktur page's ``line`` with its last word's hyphen written as Fraktur's
    (:func:`.scripts.with_fraktur_hyphen`)."""
    tokens = line.text.split()
    if not tokens or not hyphenated(tokens[-1]):
        return line
    return _with_word(line, len(tokens) - 1, with_fraktur_hyphen(tokens[-1]))


def _with_word(line: ppocr.PpocrLine, place: int, text: str) -> ppocr.PpocrLine:
    """``line`` with its word at ``place`` written ``text``, in its box too where it has
    a box for each word. The recognizer's choices go with the old word."""
    tokens = line.text.split()
    tokens[place] = text
    words = line.words
    if len(words) == len(tokens):
        words = (*words[:place], attrs.evolve(words[place], text=text), *words[place + 1 :])
    return attrs.evolve(line, text=" ".join(tokens), words=words, choices=None)


def _turned(page: PreparedPage, rotation: int) -> PreparedPage:
    """The prepared page turned a further ``rotation`` degrees clockwise."""
    # PIL turns counter-clockwise
    return attrs.evolve(
        page,
        image=page.image.rotate(-rotation, expand=True),
        ink=page.ink.rotate(-rotation, expand=True),
        rotation=(page.rotation + rotation) % 360,
    )


def _timed(reading: PageReading, timings: dict[str, float], started: float) -> PageReading:
    """The reading with the page's timings: its preparation steps, and the rest as ``read``."""
    read = time.perf_counter() - started - sum(timings.values())
    page = attrs.evolve(reading.page, timings={**timings, "read": round(read, 4)})
    return attrs.evolve(reading, page=page)


def split_at_gutters(image: Image.Image, lines: list[ppocr.PpocrLine]) -> list[ppocr.PpocrLine]:
    """Lines the detector ran across a column gutter, cut at the gutter and read again.

    Where two columns' lines happen to sit at the same height, PP-OCRv6 may find
    one line across both. Such a line is cut where its pixels have a blank
    stripe wider than word spacing that lines up with where several
    neighbouring lines end (on its left) or start (on its right): a gutter the
    page confirms. Each part is recognized again on its own.

    Where most lines of a stretch ran across, the parts cut first are the witnesses of
    the rest: the page is looked at again until no line is cut (on a microfilm negative
    of a commentary, the two columns' last lines were found across both).
    """
    if len(lines) <= _GUTTER_WITNESSES:
        return lines
    height = statistics.median(line.bbox[3] - line.bbox[1] for line in lines)
    grey = image.convert("L")
    stripes: dict[BBox, list[tuple[int, int]]] = {}  # each line's, looked at once
    for _ in range(_GUTTER_PASSES):
        cut = _cut_at_gutters(image, grey, lines, height, stripes)
        if len(cut) == len(lines):
            break
        lines = cut
    return lines


def _cut_at_gutters(
    image: Image.Image,
    grey: Image.Image,
    lines: list[ppocr.PpocrLine],
    height: float,
    stripes: dict[BBox, list[tuple[int, int]]],
) -> list[ppocr.PpocrLine]:
    """One look at the page for lines run across a gutter (:func:`split_at_gutters`).
    ``stripes``: the blank stripes of the lines looked at before, by box, added to."""
    result: list[ppocr.PpocrLine] = []
    for line in lines:
        if line.bbox not in stripes:
            stripes[line.bbox] = _blank_stripes(grey, line.bbox, _GUTTER_MIN_GAP * height)
        cuts = [
            stripe
            for stripe in stripes[line.bbox]
            if _witnessed(lines, line, stripe[0], stripe[1], height)
        ]
        if not cuts:
            result.append(line)
            continue
        edges = [line.bbox[0], *(x for stripe in cuts for x in stripe), line.bbox[2]]
        for left, right in zip(edges[::2], edges[1::2], strict=True):
            box, piece = _piece(image, line, left, right)
            if min(piece.size) < _THINNEST_PIECE:
                continue  # a sliver between a stripe and the line's end: no text to read
            text, score, choices = ppocr.recognize_line(piece)
            if text:
                result.append(
                    ppocr.PpocrLine(
                        text=text, bbox=box, score=score, angle=line.angle, choices=choices
                    )
                )
    return result


def _piece(
    image: Image.Image, line: ppocr.PpocrLine, left: int, right: int
) -> tuple[BBox, Image.Image]:
    """The part of ``line`` from ``left`` to ``right``: its box, and its image to read. A
    line at a slope (a page scanned askew) is cut along it, and its piece turned level: the
    upright box around a sloping piece holds the ends of the lines above and below it."""
    x0, y0, x1, y1 = line.bbox
    if abs(line.angle) < _LEAST_SLOPE:
        box = (left, y0, right, y1)
        return box, image.crop(box)
    slope = math.tan(math.radians(line.angle))
    _, height = outline(x1 - x0, y1 - y0, line.angle)
    middle_x = (left + right) / 2
    middle_y = (y0 + y1) / 2 + (middle_x - (x0 + x1) / 2) * slope
    rise = abs(right - left) * abs(slope)
    top, bottom = middle_y - (height + rise) / 2, middle_y + (height + rise) / 2
    box = (left, max(y0, round(top)), right, min(y1, round(bottom)))
    # a square around the piece's middle, turned level about it, then the piece's own
    # length and the line's own height kept (what the square's turned corners lose lies
    # outside that)
    reach = round((right - left) / 2 + height)
    square = (round(middle_x) - reach, round(middle_y) - reach)
    around = image.crop((*square, square[0] + 2 * reach, square[1] + 2 * reach))
    level = around.rotate(line.angle, resample=Image.Resampling.BICUBIC)
    half_width, half_height = round((right - left) / 2), round(height / 2)
    piece = level.crop(
        (reach - half_width, reach - half_height, reach + half_width, reach + half_height)
    )
    return box, piece


def _blank_stripes(grey: Image.Image, box: BBox, min_width: float) -> list[tuple[int, int]]:
    """Vertical stripes of ``box`` (inside its ink) without ink, at least ``min_width`` wide."""
    import numpy

    pixels = numpy.asarray(grey.crop(box), dtype=numpy.uint8)
    if pixels.size == 0:
        return []
    # ink: clearly darker than the line's paper (its brightest tenth), or on a negative
    # (microfilm), whose paper is the darkest tenth, clearly lighter; most of a line's
    # pixels are paper, so the paper is the end the median lies nearer
    light, middle, dark = numpy.percentile(pixels, (90, 50, 10))
    if light - middle <= middle - dark:
        ink = pixels < light - _INK_CONTRAST
    else:
        ink = pixels > dark + _INK_CONTRAST
    columns = numpy.flatnonzero(_clustered(ink).any(axis=0))
    if columns.size == 0:
        return []
    stripes = []
    for before, after in itertools.pairwise(columns.tolist()):
        if after - before - 1 >= min_width:
            stripes.append((box[0] + int(before) + 1, box[0] + int(after)))
    return stripes


def _clustered(ink: Any) -> Any:
    """The pixels of ``ink`` (a boolean image) with ink around them too
    (:data:`_INKED_NEIGHBOURS`): strokes, not specks. A median filter on the ink; this
    sums shifted copies, a hundredth of the time PIL's median filter takes on a line."""
    import numpy

    padded = numpy.pad(ink, 1).astype(numpy.uint8)
    rows, columns = ink.shape
    around = sum(padded[dy : dy + rows, dx : dx + columns] for dy in range(3) for dx in range(3))
    return around >= _INKED_NEIGHBOURS


def _witnessed(
    lines: list[ppocr.PpocrLine], line: ppocr.PpocrLine, left: int, right: int, height: float
) -> bool:
    """Whether lines near ``line`` end at ``left`` and others start at ``right``: the two
    sides of a gutter, where a wide word space has neither."""
    reach = _GUTTER_REACH * height
    ends = starts = 0
    for other in lines:
        if other is line or abs(other.bbox[1] - line.bbox[1]) > reach:
            continue
        if left - height <= other.bbox[2] <= right and other.bbox[0] < left:
            ends += 1
        if left <= other.bbox[0] <= right + height and other.bbox[2] > right:
            starts += 1
    return ends >= _GUTTER_WITNESSES and starts >= _GUTTER_WITNESSES


def _score(lines: list[ppocr.PpocrLine]) -> float:
    """PP-OCRv6's mean character score over the page."""
    characters = sum(len(line.text) for line in lines)
    return sum(len(line.text) * line.score for line in lines) / characters if characters else 0.0


def _filled(lines: list[ppocr.PpocrLine]) -> bool:
    """Whether the text read fills the lines found, as text in a script it reads does."""
    room = sum(
        (line.bbox[2] - line.bbox[0]) / max(1, line.bbox[3] - line.bbox[1]) / _CHARACTER_WIDTH
        for line in lines
    )
    filled = sum(len(line.text) + sum(ord(c) >= 0x2E80 for c in line.text) for line in lines)
    return bool(lines) and filled >= _TRUSTED_FILL * room


def _trustworthy(lines: list[ppocr.PpocrLine]) -> bool:
    return _filled(lines) and _score(lines) >= _TRUSTED_SCORE


def _reads_better(lines: list[ppocr.PpocrLine], reading: PageReading) -> bool:
    """Whether PP-OCRv6's reading beats Tesseract's, where OSD named a script PP-OCRv6 does
    not read: on handwriting OSD's script is often noise (Hangul, Arabic), and
    Tesseract's reading is as unsure as it is wrong."""
    confidences = [block.confidence for block in reading.page.blocks]
    tesseract = statistics.fmean(confidences) if confidences else 0.0
    return _filled(lines) and common_confidence(PPOCR, _score(lines)) > tesseract


def _from_ppocr(line: ppocr.PpocrLine, *, engine: str = PPOCR) -> TextLine:
    words = line.text.split() or [line.text]
    confidence = common_confidence(PPOCR, line.score)
    # rapidocr's word scores are not the words' (it pairs each word with one character's
    # score), so a word has its line's confidence
    boxed = aligned_words(
        split_words(join_words(words)),
        [(word.text, word.bbox) for word in line.words],
        line.bbox,
        round(confidence, 4),
    )
    return TextLine(
        words=words,
        confidences=[confidence],
        bbox=line.bbox,
        engine=engine,
        boxed=tuple(boxed) if boxed else None,
    )


def _with_greek_words(
    data: dict[str, list[Any]],
    found: list[ppocr.PpocrLine],
    reread: set[int],
    latin: frozenset[str],
    layout: list[BBox],
    skew: float,
) -> dict[int, ppocr.PpocrLine]:
    """PP-OCRv6's lines (other than those ``reread`` whole) with the Greek words Tesseract
    found in them in place of what PP-OCRv6, which has no Greek, made of those words
    ("Adyxa" for λόγχα). A word of the page's Latin-script language (``latin``, its word
    list) stays as PP-OCRv6 read it. ``layout``: the lines' boxes as if the page, scanned
    at ``skew`` degrees, lay straight (:func:`.reading_order.upright_boxes`)."""
    others = [i for i in range(len(found)) if i not in reread]
    placed: dict[int, list[TesseractWord]] = {}
    for words in words_by_line(data).values():
        for word in words:
            greek_letters = sum(greek_share(letter) > 0 for letter in word.text)
            if (
                greek_letters < _GREEK_WORD_LETTERS
                or greek_share(word.text) < _GREEK_WORD_SHARE
                or word.confidence < _GREEK_WORD_SURE
            ):
                continue
            best = _line_holding(word.bbox, layout, others, skew)
            if best is not None:
                placed.setdefault(best, []).append(word)
    result: dict[int, ppocr.PpocrLine] = {}
    for i, greek_words in placed.items():
        line = found[i]
        tokens = line.text.split()
        if len(line.words) != len(tokens):
            continue  # no box for each of PP-OCRv6's words
        boxed: list[ppocr.PpocrWord | None] = list(line.words)
        for greek in greek_words:
            span = [
                (k, read)
                for k, read in enumerate(boxed)
                if read is not None and _inside_across(read.bbox, greek.bbox) >= _LINE_MATCH
            ]
            read_as = " ".join(read.text for _, read in span)
            if not span or greek_share(read_as) > 0 or all_listed(read_as, latin):
                continue
            boxed[span[0][0]] = ppocr.PpocrWord(
                text=greek_text_forms(greek.text),
                bbox=enclosing(read.bbox for _, read in span),
                score=greek.confidence,
            )
            for k, _ in span[1:]:
                boxed[k] = None
        kept = tuple(word for word in boxed if word is not None)
        if kept != line.words:
            text = " ".join(word.text for word in kept)
            result[i] = attrs.evolve(line, text=text, words=kept, choices=None)
    return result


def _line_holding(box: BBox, lines: list[BBox], among: list[int], skew: float) -> int | None:
    """Of the lines ``among`` (by their boxes as if the page lay straight, ``lines``), the
    one holding most of ``box`` (a word's, on the page scanned at ``skew`` degrees), where
    that is more than :data:`_LINE_MATCH` of it. On a page scanned askew, each line's
    upright box reaches over its neighbours' words: both are taken as if it lay straight."""
    (box,) = upright_boxes([box], skew)
    best, best_share = None, _LINE_MATCH
    for i in among:
        share = share_inside(box, lines[i])
        if share > best_share:
            best, best_share = i, share
    return best


def _inside_across(box: BBox, other: BBox) -> float:
    """Share of ``box``'s width that lies across ``other``'s."""
    overlap = min(box[2], other[2]) - max(box[0], other[0])
    return max(0, overlap) / max(1, box[2] - box[0])


def _is_speck(text: str, confidence: float) -> bool:
    """A mark read where there is none (a speck of dust, a stain): short, unsure (0 to 1),
    no letter."""
    return (
        len(text) <= _SPECK_LENGTH
        and 0 <= confidence < _SPECK_CONFIDENCE
        and not any(character.isalpha() for character in text)
    )


def _without_detached_marks(rows: list[list[TesseractWord]]) -> list[TesseractWord]:
    """The words of the lines Tesseract found within one PP-OCRv6 line, less any line of
    marks: words of at most :data:`_MARK_LENGTH` characters, at most
    :data:`_MARKS_HEIGHT` as tall as those of the line with the most characters. Polytonic
    Greek set with its accents and breathings high above the letters has Tesseract read
    them as a line of their own, of signs and stray letters ("> N \\ 2 ἕ" above "ἐγὼ γὰρ
    ἐξ οὗ"), often with a confidence as high as the words'."""
    if len(rows) < 2:
        return [word for row in rows for word in row]
    main = max(rows, key=lambda row: sum(len(word.text) for word in row))
    height = statistics.median(word.bbox[3] - word.bbox[1] for word in main)
    kept = []
    for row in rows:
        if (
            row is not main
            and all(len(word.text) <= _MARK_LENGTH for word in row)
            and statistics.median(word.bbox[3] - word.bbox[1] for word in row)
            <= _MARKS_HEIGHT * height
        ):
            continue
        kept.extend(row)
    return kept


def _tesseract_lines(
    data: dict[str, list[Any]],
    found: list[ppocr.PpocrLine],
    candidates: list[int],
    layout: list[BBox],
    skew: float,
    *,
    fraktur: bool = False,
) -> dict[int, TextLine]:
    """For the PP-OCRv6 lines ``candidates`` (those with Greek letters), Tesseract's reading
    of the same line where Tesseract, reading the whole page with its Greek model, finds
    Greek there: each of Tesseract's words goes to the PP-OCRv6 line it lies in most (a
    line number beside a verse stays the number's own line). ``layout`` and ``skew`` as
    for :func:`_with_greek_words`. ``fraktur``: the page is set in Fraktur, whose hyphen
    a line's last word ends in (:func:`.scripts.with_fraktur_hyphen`)."""
    assigned: dict[int, dict[tuple[int, int, int], list[TesseractWord]]] = {}
    for key, words in words_by_line(data).items():
        for word in words:
            best = _line_holding(word.bbox, layout, candidates, skew)
            if best is not None:
                assigned.setdefault(best, {}).setdefault(key, []).append(word)
    lines = {}
    for i, rows in assigned.items():
        kept = sorted(
            (
                word
                for word in _without_detached_marks(list(rows.values()))
                if not _is_speck(word.text, word.confidence)
            ),
            key=lambda word: word.bbox[0],
        )
        text = " ".join(word.text for word in kept)
        if kept and greek_share(text) >= _GREEK_CONFIRMED:
            texts = [_figures_as_ppocr_read(word, found[i]) for word in kept]
            if fraktur:
                texts[-1] = with_fraktur_hyphen(texts[-1])
            lines[i] = text_line(kept, found[i].bbox, texts)
    return lines


def _figures_as_ppocr_read(word: TesseractWord, line: ppocr.PpocrLine) -> str:
    """A word of Tesseract's reading of a Greek ``line``, as written (:func:`greek_text_forms`);
    but where Tesseract read no letter in it (a number, a sign), PP-OCRv6's one word in the
    same place, if it read no Greek there: its figures and Latin punctuation are the surer.
    Tesseract's Greek model reads a commentary's line numbers and references with other
    digits ("920" for 520, "8" for §) and its sigla with commas ("12," for L2.)."""
    if any(character.isalpha() for character in word.text):
        return greek_text_forms(word.text)
    if len(line.words) != len(line.text.split()):
        return greek_text_forms(word.text)  # no box for each of PP-OCRv6's words
    across = [read for read in line.words if _inside_across(read.bbox, word.bbox) >= _LINE_MATCH]
    if len(across) != 1 or greek_share(across[0].text) > 0:
        return greek_text_forms(word.text)
    return across[0].text
