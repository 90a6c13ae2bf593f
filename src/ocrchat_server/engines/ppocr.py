"""PP-OCRv6 (PaddleOCR's detection and recognition models) through rapidocr.

rapidocr's wheel carries the PP-OCRv6 *small* models and loads them from its
own folder after a checksum, so nothing is ever downloaded. One recognizer is
made per worker process, on first use, and kept: loading costs about a second.

Measured on the shared corpus (docs/engines.md): far better than Tesseract on
printed Latin-script pages, camera photos, tables and handwriting; it has no
polytonic Greek, Cyrillic, Arabic or Indic scripts (see :mod:`.scripts`).
Pitfalls worked around here:

- its line-angle classifier garbles upright lines, so it is off; pages are
  turned upright before they get here;
- palette and bilevel images come out blank unless converted first;
- onnxruntime takes every core by default: one thread a worker, like
  Tesseract's ``OMP_THREAD_LIMIT=1``;
- rapidocr turns onnxruntime's memory pool off; it is on (faster, see below);
- lines are recognized one at a time: rapidocr batches six by default, each
  padded to the widest, and on one thread the padding is wasted work. On the
  corpus's 14 images recognition took 17.8 s instead of 24.4 s (the whole
  reading 34.1 s instead of 41.9 s), CER 0.2822 against 0.2816.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat.models import BBox


class PpocrUnavailableError(RuntimeError):
    """rapidocr (or its onnxruntime) is not installed on this machine."""


@attrs.frozen
class PpocrWord:
    text: str
    bbox: BBox
    score: float = 1.0
    """The recognizer's mean probability of the word's characters."""


@attrs.frozen
class PpocrLine:
    """One detected text line: its box on the page, its text and the recognizer's score."""

    text: str
    bbox: BBox
    score: float
    """The recognizer's mean character probability, 0 to 1."""
    words: tuple[PpocrWord, ...] = ()


@functools.cache
def _recognizer() -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:  # pragma: no cover - rapidocr is a server dependency
        raise PpocrUnavailableError(
            "PP-OCRv6 needs rapidocr: pip install 'ocrchat[server]'."
        ) from exc
    # rapidocr logs every model load at info level through its own handler
    logging.getLogger("RapidOCR").setLevel(logging.WARNING)
    return RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.return_word_box": True,
            "Global.log_level": "warning",
            "Rec.rec_batch_num": 1,
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # onnxruntime's own memory pool, which rapidocr turns off: without it the
            # detector's large tensors are given back to the system after every page and
            # faulted in again on the next (11 to 17% of a page's time); the pool keeps a
            # worker at its peak, 0.4 GB more on A4 pages at 300 dpi (docs/engines.md)
            "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
        }
    )


def _pixels(image: Image.Image) -> Any:
    """The page as the BGR array rapidocr expects (it reads a palette's indices as grey)."""
    import numpy

    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return numpy.asarray(rgb)[:, :, ::-1]


def _box(points: Any) -> BBox:
    xs = [float(point[0]) for point in points]
    ys = [float(point[1]) for point in points]
    return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))


def read_lines(image: Image.Image) -> list[PpocrLine]:
    """Every text line PP-OCRv6 finds on the page, in detection order."""
    # every step named on every call: rapidocr keeps a call's choices for the next one
    result = _recognizer()(_pixels(image), use_det=True, use_cls=False, use_rec=True)
    if result.boxes is None or result.txts is None:
        return []
    word_results = getattr(result, "word_results", None) or [()] * len(result.txts)
    lines = []
    for points, text, score, words in zip(
        result.boxes, result.txts, result.scores, word_results, strict=True
    ):
        text = str(text).strip()
        if not text:
            continue
        boxed = tuple(
            PpocrWord(text=str(word).strip(), bbox=_box(word_points), score=float(word_score))
            for word, word_score, word_points in words
            if str(word).strip()
        )
        lines.append(PpocrLine(text=text, bbox=_box(points), score=float(score), words=boxed))
    return lines


def recognize_line(image: Image.Image) -> tuple[str, float]:
    """The text of an image holding one line (no detection), and its score."""
    result = _recognizer()(_pixels(image), use_det=False, use_cls=False, use_rec=True)
    if not result.txts:
        return "", 0.0
    return str(result.txts[0]).strip(), float(result.scores[0])
