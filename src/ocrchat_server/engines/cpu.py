"""The cpu tier: PP-OCRv6 and Tesseract, each reading what it reads best.

``engine=auto`` (the default):

- Latin-script and Chinese/Japanese pages are read by PP-OCRv6. Its lines are
  put in reading order (:mod:`.reading_order`) and grouped into paragraphs.
  Lines it reads as Greek (PP-OCRv6 has monotonic Greek letters only, and
  mangles polytonic Greek) are read again by Tesseract's Greek model, all of a
  page's Greek lines in one Tesseract call.
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

import statistics
from typing import TYPE_CHECKING

import attrs
from PIL import Image

from ocrchat_server.engines import ppocr
from ocrchat_server.engines.base import EngineError, PageReading, Word
from ocrchat_server.engines.detection import detect_languages
from ocrchat_server.engines.languages import installed_models
from ocrchat_server.engines.page_text import TextLine, build_page
from ocrchat_server.engines.reading_order import paragraphs, reading_order
from ocrchat_server.engines.scripts import (
    GREEK_MODELS,
    is_greek_line,
    ppocr_reads,
    split_greek,
)
from ocrchat_server.engines.tables import find_tables
from ocrchat_server.engines.tesseract import (
    TesseractEngine,
    TesseractWord,
    prepare_image,
    read_data,
    words_by_line,
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
_STACK_GAP = 30
"""White pixels between two line crops stacked for one Tesseract call."""
_CROP_MARGIN = 6
_GUTTER_MIN_GAP = 0.8
"""A gap between two words of a line, in line heights, wide enough to be a gutter..."""
_GUTTER_WITNESSES = 3
"""... when this many lines nearby end at its left or start at its right..."""
_GUTTER_REACH = 8
"""... within this many line heights above or below."""
_BAND_CORE = 0.25
"""Tesseract lines whose middle is within this share of a crop's height of its middle."""
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

    def read_page(self, image: Image.Image, *, index: int, language: LanguageChoice) -> PageReading:
        tesseract = TesseractEngine(read_tables=self.read_tables)
        if self.engine == TESSERACT:
            return tesseract.read_page(image, index=index, language=language)
        if language.models is not None:
            models = language.models
            greek = split_greek(models)
            if self.engine == PPOCR or ppocr_reads(models) or greek is not None:
                prepared, dpi = prepare_image(image)
                return self._ppocr_page(
                    prepared, dpi, ppocr.read_lines(prepared), index, models=models,
                    greek_models=models if greek else None,
                )  # fmt: skip
            return tesseract.read_page(image, index=index, language=language)
        prepared, dpi = prepare_image(image)
        lines = ppocr.read_lines(prepared)
        if self.engine == PPOCR or _trustworthy(lines):
            return self._ppocr_page(prepared, dpi, lines, index, models=None, greek_models=None)
        # Little or nothing read: a script PP-OCRv6 lacks, a turned page, or just a hard one
        reading = tesseract.read_page(image, index=index, language=language)
        found = reading.page.language or ""
        if not ppocr_reads(found) and not _reads_better(lines, reading):
            return reading
        if reading.page.rotation:
            upright, dpi = prepare_image(reading.image)
            lines = ppocr.read_lines(upright)
            rotation = reading.page.rotation
        else:
            upright, rotation = prepared, 0
        return self._ppocr_page(upright, dpi, lines, index, models=None, rotation=rotation)

    def _ppocr_page(
        self,
        image: Image.Image,
        dpi: int | None,
        found: list[ppocr.PpocrLine],
        index: int,
        *,
        models: str | None,
        greek_models: str | None = None,
        rotation: int = 0,
    ) -> PageReading:
        found = split_at_gutters(found)
        order = reading_order([line.bbox for line in found])
        grouped = paragraphs([line.bbox for line in found], order)
        detected = None
        if models is None:  # language=auto: the languages of PP-OCRv6's text
            texts = ["\n".join(found[i].text for i in group) for group in grouped]
            detected = detect_languages(texts)
            models = "+".join(dict.fromkeys(language.model for language in detected)) or None
            greek_models = _greek_models_for(models)
        lines = [_from_ppocr(line) for line in found]
        engine = PPOCR
        if greek_models is not None:
            greek = [i for i, line in enumerate(found) if is_greek_line(line.text)]
            if greek:
                models = greek_models
                for i, reread in zip(greek, _read_stacked(image, found, greek, greek_models),
                                     strict=True):  # fmt: skip
                    if reread is not None:
                        lines[i] = reread
                engine = f"{PPOCR}+{TESSERACT}"
        tables = find_tables(image, models or "eng", "") if self.read_tables else []
        page = build_page(
            [[lines[i] for i in group] for group in grouped],
            index=index,
            size=image.size,
            models=models,
            engine=engine,
            rotation=rotation,
            tables=tables,
        )
        if detected is not None:
            page = attrs.evolve(page, detected_languages=[language.code for language in detected])
        return PageReading(page=page, image=image, words=_words(found, lines), dpi=dpi)


def split_at_gutters(lines: list[ppocr.PpocrLine]) -> list[ppocr.PpocrLine]:
    """Lines the detector ran across a column gutter, cut at the gutter.

    Where two columns' lines happen to sit at the same height, PP-OCRv6 may find
    one line across both. Such a line is cut at a gap between two of its words
    that is wider than word spacing and lines up with where neighbouring lines
    end (on the left) or start (on the right): a gutter confirmed by the page.
    """
    if len(lines) < _GUTTER_WITNESSES + 1:
        return lines
    height = statistics.median(line.bbox[3] - line.bbox[1] for line in lines)
    result: list[ppocr.PpocrLine] = []
    for line in lines:
        words = line.words
        if len(words) < 2 or len(words) != len(line.text.split()):
            result.append(line)
            continue
        cuts = []
        for i in range(len(words) - 1):
            left, right = words[i].bbox[2], words[i + 1].bbox[0]
            if right - left >= _GUTTER_MIN_GAP * height and _witnessed(
                lines, line, left, right, height
            ):
                cuts.append(i + 1)
        if not cuts:
            result.append(line)
            continue
        for start, stop in zip([0, *cuts], [*cuts, len(words)], strict=True):
            part = words[start:stop]
            box = (
                min(word.bbox[0] for word in part), line.bbox[1],
                max(word.bbox[2] for word in part), line.bbox[3],
            )  # fmt: skip
            text = " ".join(word.text for word in part)
            result.append(ppocr.PpocrLine(text=text, bbox=box, score=line.score, words=part))
    return result


def _witnessed(
    lines: list[ppocr.PpocrLine], line: ppocr.PpocrLine, left: int, right: int, height: float
) -> bool:
    """Whether at least a few lines near ``line`` end at ``left`` or start at ``right``."""
    reach = _GUTTER_REACH * height
    witnesses = 0
    for other in lines:
        if other is line or abs(other.bbox[1] - line.bbox[1]) > reach:
            continue
        ends_there = left - height <= other.bbox[2] <= right
        starts_there = left <= other.bbox[0] <= right + height
        if (ends_there and other.bbox[0] < left) or (starts_there and other.bbox[2] > right):
            witnesses += 1
    return witnesses >= _GUTTER_WITNESSES


def _greek_models_for(models: str | None) -> str | None:
    """The models to read a page's Greek lines with under ``language=auto``."""
    installed = installed_models()
    greek = next((model for model in GREEK_MODELS if model in installed), None)
    if greek is None:
        return None
    return f"{greek}+{models}" if models else greek


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
    return _filled(lines) and _score(lines) > tesseract


def _from_ppocr(line: ppocr.PpocrLine) -> TextLine:
    words = line.text.split() or [line.text]
    return TextLine(words=words, confidences=[line.score], bbox=line.bbox, engine=PPOCR)


def _words(found: list[ppocr.PpocrLine], lines: list[TextLine]) -> list[Word]:
    """The words of the searchable PDF's text layer, each on its line."""
    words = []
    for detected, line in zip(found, lines, strict=True):
        if line.engine == PPOCR and detected.words and len(detected.words) == len(line.words):
            words += [Word(text=w.text, bbox=w.bbox, line_box=line.bbox) for w in detected.words]
        else:
            words += _spread(line)
    return words


def _spread(line: TextLine) -> list[Word]:
    """A line's words laid over its box in proportion to their length."""
    total = sum(len(word) + 1 for word in line.words) or 1
    x0, y0, x1, y1 = line.bbox
    words, left = [], float(x0)
    for word in line.words:
        right = left + (x1 - x0) * (len(word) + 1) / total
        words.append(Word(text=word, bbox=(round(left), y0, round(right), y1), line_box=line.bbox))
        left = right
    return words


def _is_speck(text: str, confidence: float) -> bool:
    """A mark Tesseract read between words of a cropped line: short, unsure, no letter."""
    return (
        len(text) <= _SPECK_LENGTH
        and 0 <= confidence < _SPECK_CONFIDENCE
        and not any(character.isalpha() for character in text)
    )


def _read_stacked(
    image: Image.Image, found: list[ppocr.PpocrLine], chosen: list[int], models: str
) -> list[TextLine | None]:
    """Lines ``chosen`` read again by Tesseract with ``models``, in one call: their crops are
    stacked on one white image, and each word goes back to the crop it lies in."""
    grey = image.convert("L")
    crops = []
    for i in chosen:
        x0, y0, x1, y1 = found[i].bbox
        # no margin above or below: detection boxes already reach the neighbouring lines'
        # accents, which Tesseract reads as stray marks
        box = (max(0, x0 - _CROP_MARGIN), y0, min(image.width, x1 + _CROP_MARGIN), y1)
        crops.append((found[i].bbox, grey.crop(box)))
    # a gap as tall as a line: with less, Tesseract joins one crop's descenders to the next
    # crop's line and reads them as stray marks
    gap = max(_STACK_GAP, max(crop.height for _, crop in crops))
    width = max(crop.width for _, crop in crops) + 2 * gap
    height = sum(crop.height + gap for _, crop in crops) + gap
    stack = Image.new("L", (width, height), 255)
    bands: list[tuple[int, int, BBox]] = []
    y = gap
    for box, crop in crops:
        stack.paste(crop, (gap, y))
        bands.append((y, y + crop.height, box))
        y += crop.height + gap
    try:
        data = read_data(stack, models, "--psm 4", 0)
    except EngineError:
        return [None] * len(chosen)
    # A crop holds a slice of its neighbours too (detection boxes overlap): of the lines
    # Tesseract finds in a band, the ones through its middle are the line that was cropped.
    by_band: list[list[tuple[float, list[TesseractWord]]]] = [[] for _ in bands]
    for tesseract_line in words_by_line(data).values():
        kept = [word for word in tesseract_line if not _is_speck(word.text, word.confidence)]
        if not kept:
            continue
        middle = statistics.fmean((word.bbox[1] + word.bbox[3]) / 2 for word in kept)
        for band, (top, bottom, _) in enumerate(bands):
            if top <= middle <= bottom:
                by_band[band].append((abs(middle - (top + bottom) / 2) / (bottom - top), kept))
                break
    chosen_words: list[list[TesseractWord]] = []
    for found_lines in by_band:
        central = [words for off, words in found_lines if off <= _BAND_CORE]
        if not central and found_lines:
            central = [min(found_lines, key=lambda pair: pair[0])[1]]
        chosen_words.append([word for words in central for word in words])
    lines: list[TextLine | None] = []
    for (_, _, box), band_words in zip(bands, chosen_words, strict=True):
        if not band_words:
            lines.append(None)
            continue
        band_words.sort(key=lambda word: word.bbox[0])
        lines.append(
            TextLine(
                words=[word.text for word in band_words],
                confidences=[word.confidence for word in band_words if word.confidence >= 0],
                bbox=box,
                engine=TESSERACT,
            )
        )
    return lines
