"""The cpu tier's Tesseract: one ``image_to_data`` reading a page, models kept loaded.

That one reading gives every word with its line, paragraph, box and confidence;
the page text, the line blocks and the Markdown are all built from it, so the
text is the same as ``tesseract IMAGE - -l LANG`` prints (words joined by
spaces, lines by newlines, paragraphs by a blank line). The calls go through
:mod:`.tesseract_api`, which keeps each model set loaded in the worker.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
from PIL import Image

from ocrchat.models import BBox, Page, Table, Word
from ocrchat_server.engines import tesseract_api
from ocrchat_server.engines.base import EngineError, PageReading, declared_dpi, on_white
from ocrchat_server.engines.detection import DetectedLanguage, detect_languages
from ocrchat_server.engines.languages import installed_models, model_for_script
from ocrchat_server.engines.page_text import TextLine, build_page, common_confidence
from ocrchat_server.engines.tables import find_tables
from ocrchat_server.engines.tesseract_api import TesseractCallError
from ocrchat_server.engines.words import layer_words

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocrchat_server.engines.base import Word as LayerWord
    from ocrchat_server.engines.languages import LanguageChoice

_WORD_LEVEL = 5
_LINE_LEVEL = 4
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
            candidates, rotation = script or self.detect_script(image, dpi)
            if rotation:
                # OSD says how far to turn clockwise; PIL turns counter-clockwise.
                image = image.rotate(-rotation, expand=True)
            models, detected, probe_data = self._choose_models(image, dpi, candidates, index)
            data = probe_data or self._read(image, models, dpi, index)
        tables = find_tables(image, models, dpi) if self.read_tables else []
        page, words = _page_from_data(
            data, index=index, size=image.size, models=models, rotation=rotation, tables=tables
        )
        if detected is not None:
            page = attrs.evolve(page, detected_languages=[found.code for found in detected])
        return PageReading(page=page, image=image, words=words, dpi=dpi)

    def _choose_models(
        self, image: Image.Image, dpi: int | None, candidates: list[str], index: int
    ) -> tuple[str, list[DetectedLanguage], dict[str, Any] | None]:
        """The models to read the page with, the languages found, and the reading when the
        probe already is it.

        The page is probed with the script model(s) at about 150 dpi, a quarter of the
        pixels and of the time; the probe's text is only asked what language it is in.
        """
        probe, scale = _probe_copy(image)
        probe_dpi = round(dpi * scale) if dpi else None
        readings = [(self._read(probe, m, probe_dpi, index), m) for m in candidates]
        data, script_model = max(readings, key=lambda reading: _data_confidence(reading[0]))
        detected = []
        if _data_confidence(data) >= _MIN_CONFIDENCE_TO_DETECT:
            first, _ = _page_from_data(data, index=index, size=probe.size, models=script_model)
            detected = detect_languages(first.text.split("\n\n"))
        models = "+".join(dict.fromkeys(found.model for found in detected)) or script_model
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
        fallback = next(m for m in (*_FALLBACK_MODELS, *sorted(installed)) if m in installed)
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


def read_data(image: Image.Image, models: str, dpi: int | None, index: int) -> dict[str, Any]:
    """Tesseract's ``image_to_data`` of the image: every block, paragraph, line and word.

    ``dpi``: the resolution the page's file declares (``--dpi``); None lets Tesseract
    estimate it from the text's size, as the command does.
    """
    try:
        return tesseract_api.read_data(image, models, dpi=dpi)
    except TesseractCallError as exc:
        raise EngineError(f"Tesseract could not read page {index + 1}: {exc}") from exc


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
    confidences = [
        float(conf)
        for conf, text, level in zip(data["conf"], data["text"], data["level"], strict=True)
        if level == _WORD_LEVEL and str(text).strip() and float(conf) >= 0
    ]
    return statistics.fmean(confidences) / 100 if confidences else 0.0


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
