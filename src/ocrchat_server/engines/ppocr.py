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
  Tesseract's ``OMP_THREAD_LIMIT=1``, but for the lines read while the other workers
  are idle, which take their cores too (:class:`_OnFreeCores`);
- rapidocr turns onnxruntime's memory pool off; it is on (faster, see below);
- lines are recognized one at a time: rapidocr batches six by default, each
  padded to the widest, and on one thread the padding is wasted work. On the
  corpus's 14 images recognition took 17.8 s instead of 24.4 s (the whole
  reading 34.1 s instead of 41.9 s), CER 0.2822 against 0.2816.
"""

from __future__ import annotations

import collections
import copy
import functools
import logging
import math
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat_server.engines.spellings import StepChoices, with_half_seen_spaces

if TYPE_CHECKING:
    from PIL import Image

    from ocrchat.models import BBox


log = logging.getLogger(__name__)


ONE_THREAD = 1
"""onnxruntime's threads a worker reads on while the other workers read too: one, like
Tesseract's ``OMP_THREAD_LIMIT=1``, with a worker for each core."""


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
    angle: float = 0.0
    """The slope of the line as the detector outlined it, in degrees: positive where it runs
    down to the right (the page's y grows downwards). A page scanned askew has its lines
    at its angle (:func:`.reading_order.page_skew`)."""
    choices: StepChoices | None = attrs.field(default=None, eq=False, repr=False)
    """The recognizer's likeliest characters along the line, where ``text`` is still its
    reading (:mod:`.spellings`)."""


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
    recognizer: Any = RapidOCR(
        params={
            "Global.use_cls": False,
            "Global.return_word_box": True,
            "Global.log_level": "warning",
            "Rec.rec_batch_num": 1,
            "EngineConfig.onnxruntime.intra_op_num_threads": ONE_THREAD,
            "EngineConfig.onnxruntime.inter_op_num_threads": ONE_THREAD,
            # onnxruntime's own memory pool, which rapidocr turns off: without it the
            # detector's large tensors are given back to the system after every page and
            # faulted in again on the next (11 to 17% of a page's time); the pool keeps a
            # worker at its peak, 0.4 GB more on A4 pages at 300 dpi (docs/engines.md)
            "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
        }
    )
    model = recognizer._load_rec_model()  # rapidocr loads a model on its first use
    model.session = _OnFreeCores(model.session)
    return recognizer


def read_on_free_cores(free_cores: Callable[[], int]) -> None:
    """Have PP-OCRv6 recognize each line on as many threads as ``free_cores()`` gives this
    reader at that moment: its own core, and its share of the cores of the workers with
    nothing to do. A server's worker processes are told so
    (:func:`.jobs.worker.init_worker`); anywhere else, a line is recognized on one
    thread."""
    global _free_cores
    _free_cores = free_cores


def _one_core() -> int:
    return ONE_THREAD


_free_cores: Callable[[], int] = _one_core


class _OnFreeCores:
    """rapidocr's session of the recognition model, which recognizes each line on one
    thread, or on more where more cores are free as the line comes (:func:`read_on_free_cores`):
    a lone page, an inline request's often, is read 1.6 times as fast on two cores, and a
    page that comes meanwhile takes its core back at the next line (65 ms).

    A session on more threads is loaded on its first use. Its threads sleep between their
    turns: onnxruntime's spin by default, waiting for work, and two workers on two cores
    each reading on two spinning threads read 65% slower than on one thread each
    (measured in November 2026, docs/engines.md)."""

    def __init__(self, on_one_core: Any) -> None:
        self._on_one_core = on_one_core
        self._on_more: dict[int, Any] = {}
        self._loading = threading.Lock()

    def __call__(self, lines: Any) -> Any:
        cores = min(_free_cores(), os.cpu_count() or ONE_THREAD)
        if cores <= ONE_THREAD:
            return self._on_one_core(lines)
        session = self._session_on(cores)
        return session.run(None, {session.get_inputs()[0].name: lines})[0]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._on_one_core, name)

    def _session_on(self, threads: int) -> Any:
        with self._loading:
            if threads not in self._on_more:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.log_severity_level = 4
                options.graph_optimization_level = (
                    onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                )  # fmt: skip
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = ONE_THREAD
                options.enable_cpu_mem_arena = True
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._on_more[threads] = onnxruntime.InferenceSession(
                    self._on_one_core.session._model_path,
                    options,
                    providers=["CPUExecutionProvider"],
                )
            return self._on_more[threads]


class _KeptChoices:
    """rapidocr's decoder of the recognizer's output, which also keeps each line's
    :class:`StepChoices` (this thread's, in the order the lines were decoded)."""

    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder
        self._kept = threading.local()

    def __call__(self, predictions: Any, *args: Any, **kwargs: Any) -> Any:
        decoded = self._decoder(predictions, *args, **kwargs)
        kept = getattr(self._kept, "choices", None)
        if kept is not None:
            characters = self._decoder.character
            kept.extend(StepChoices.of(line, characters) for line in predictions)
        return decoded

    def __getattr__(self, name: str) -> Any:
        return getattr(self._decoder, name)

    def start(self) -> None:
        """Keep the choices of the lines decoded from now on, in this thread."""
        self._kept.choices = []

    def taken(self) -> list[StepChoices]:
        """The choices kept since :meth:`start`, which stops keeping them."""
        kept: list[StepChoices] = getattr(self._kept, "choices", None) or []
        self._kept.choices = None
        return kept


_wrapping = threading.Lock()


def _choices_kept() -> _KeptChoices:
    """The recognizer's decoder, wrapped (once, whichever thread asks first) to keep each
    line's choices."""
    model = _recognizer()._load_rec_model()
    with _wrapping:
        if not isinstance(model.postprocess_op, _KeptChoices):
            model.postprocess_op = _KeptChoices(model.postprocess_op)
        kept: _KeptChoices = model.postprocess_op
    return kept


def _pixels(image: Image.Image) -> Any:
    """The page as the BGR array rapidocr expects (it reads a palette's indices as grey)."""
    import numpy

    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return numpy.asarray(rgb)[:, :, ::-1]


def _box(points: Any) -> BBox:
    xs = [float(point[0]) for point in points]
    ys = [float(point[1]) for point in points]
    return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))


def _angle(points: Any) -> float:
    """The slope of a detected line's outline (its four corners, clockwise from the top
    left): of its top and bottom edges together."""
    (left_top, right_top, right_bottom, left_bottom) = (
        (float(point[0]), float(point[1])) for point in points[:4]
    )
    run = (right_top[0] - left_top[0]) + (right_bottom[0] - left_bottom[0])
    rise = (right_top[1] - left_top[1]) + (right_bottom[1] - left_bottom[1])
    return math.degrees(math.atan2(rise, run)) if run > 0 else 0.0


@attrs.frozen
class Outlines:
    """The text lines PP-OCRv6's detector outlined on a page, before any is recognized:
    enough to tell how the page lies (:attr:`angles`) and whether to read it as it is.

    rapidocr's one call runs detection and recognition together; its steps are called
    here one by one, as that call runs them, so that a page read as it lies is detected
    once."""

    image: Any
    """The page as rapidocr loaded it."""
    prepared: Any
    """... as its detector saw it (scaled), with rapidocr's record of the scaling."""
    record: dict[str, Any]
    crops: list[Any]
    """Each line cut out of ``prepared`` along its outline, straightened."""
    detected: Any
    """rapidocr's detection result (its ``boxes``: each line's four corners)."""

    @property
    def boxes(self) -> list[BBox]:
        """Each line's box, in the detector's (scaled) pixels."""
        return [_box(points) for points in self._corners]

    @property
    def angles(self) -> list[float]:
        """Each line's slope (:attr:`PpocrLine.angle`)."""
        return [_angle(points) for points in self._corners]

    @property
    def _corners(self) -> list[Any]:
        if self.detected is None or self.detected.boxes is None:
            return []
        return list(self.detected.boxes)


def detect(image: Image.Image) -> Outlines:
    """The text lines PP-OCRv6 finds on the page, outlined but not yet read."""
    recognizer = _recognizer()
    # every step named on every call: rapidocr keeps a call's choices for the next one
    recognizer.update_params(use_det=True, use_cls=False, use_rec=True)
    loaded = recognizer.load_img(_pixels(image))
    prepared, record = recognizer.preprocess_img(loaded)
    try:
        crops, detected = recognizer.detect_and_crop(prepared, record)
    except _rapidocr_error() as exc:  # nothing on the page looks like text
        log.debug("PP-OCRv6 found no text: %s", exc)
        crops, detected = [], None
    return Outlines(image=loaded, prepared=prepared, record=record, crops=crops, detected=detected)


def detected_straight(outlines: Outlines, skew: float) -> Outlines:
    """``outlines`` found again on the page turned ``skew`` degrees counter-clockwise (its
    lines' slope, :func:`.reading_order.page_skew`), each outline turned back onto the page
    as it lies, and cut out of it there.

    On a page scanned askew the detector runs lines of neighbouring columns into one,
    where upright it keeps them apart. Only the outlines come from the straightened page:
    each line is cut out of the page as it lies (along its outline, straightened, as
    rapidocr cuts every line), so it is resampled once, as on an upright page; read off a
    turned copy, the accents of a Czech photo went soft. The lines' boxes lie on the page
    as uploaded, as Tesseract's do."""
    recognizer = _recognizer()
    prepared = outlines.prepared
    if outlines.detected is None or any(outlines.record.get("padding_1", {}).values()):
        return outlines  # a strip rapidocr pads (one short line): nothing to straighten
    import numpy
    from PIL import Image

    from ocrchat_server.engines.preparation import turned_back, turned_by

    straight = numpy.ascontiguousarray(turned_by(Image.fromarray(prepared), skew))
    record = copy.deepcopy(outlines.record)
    record.pop("padding_1", None)
    try:
        _, detected = recognizer.detect_and_crop(straight, record)
    except _rapidocr_error():
        return outlines
    if any(record.get("padding_1", {}).values()):
        return outlines
    detected.boxes = turned_back(
        detected.boxes, skew, (straight.shape[1], straight.shape[0]),
        (prepared.shape[1], prepared.shape[0]),
    )  # fmt: skip
    crops = recognizer.crop_text_regions(prepared, detected.boxes)
    return attrs.evolve(outlines, crops=crops, detected=detected)


def read_outlined(outlines: Outlines) -> list[PpocrLine]:
    """The lines :func:`detect` outlined, read, in detection order."""
    if outlines.detected is None or not outlines.crops:
        return []
    recognizer = _recognizer()
    from rapidocr.ch_ppocr_cls import TextClsOutput

    kept = _choices_kept()
    kept.start()
    try:
        recognized = recognizer.recognize_txt(outlines.crops)
    except _rapidocr_error() as exc:
        log.debug("PP-OCRv6 read nothing: %s", exc)
        return []
    finally:
        choices = kept.taken()
    result = recognizer.build_final_output(
        outlines.image, outlines.detected, TextClsOutput(), recognized, outlines.crops,
        outlines.record,
    )  # fmt: skip
    return _lines(result, choices)


def read_lines(image: Image.Image) -> list[PpocrLine]:
    """Every text line PP-OCRv6 finds on the page, in detection order."""
    return read_outlined(detect(image))


def _rapidocr_error() -> type[Exception]:
    from rapidocr.main import RapidOCRError

    return RapidOCRError


def _lines(result: Any, choices: list[StepChoices] | None = None) -> list[PpocrLine]:
    """rapidocr's output as our lines, each with its :class:`StepChoices` from ``choices``
    (the lines' in the order they were decoded, which is not the lines' order: each goes to
    the line whose text it reads as)."""
    if getattr(result, "boxes", None) is None or getattr(result, "txts", None) is None:
        return []
    word_results = getattr(result, "word_results", None) or [()] * len(result.txts)
    by_text: dict[str, collections.deque[StepChoices]] = collections.defaultdict(collections.deque)
    for line_choices in choices or ():
        by_text[line_choices.text].append(line_choices)
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
        line = PpocrLine(
            text=text,
            bbox=_box(points),
            score=float(score),
            words=boxed,
            angle=_angle(points) if len(points) == 4 else 0.0,
            choices=by_text[text].popleft() if by_text.get(text) else None,
        )
        lines.append(_with_half_seen_spaces(line))
    return lines


def _with_half_seen_spaces(line: PpocrLine) -> PpocrLine:
    """``line`` with the spaces its recognizer half saw (:func:`.spellings.with_half_seen_spaces`)
    read, each word parted by them sharing its box."""
    if line.choices is None:
        return line
    spaced = with_half_seen_spaces(line.choices)
    if spaced is line.choices:
        return line
    text = spaced.text  # the line's characters, with the spaces between them
    words = line.words
    if [word.text for word in words] == line.text.split():
        parts = iter(text.split())
        boxed: list[PpocrWord] = []
        for word in words:
            pieces = [next(parts)]
            while "".join(pieces) != word.text:
                pieces.append(next(parts))
            boxed.extend(split_word(word, " ".join(pieces)))
        words = tuple(boxed)
    return attrs.evolve(line, text=text, words=words, choices=spaced)


def split_word(word: PpocrWord, text: str) -> list[PpocrWord]:
    """The word with its new text; where that is two words or more, its box shared by their
    lengths."""
    parts = text.split()
    if len(parts) == 1:
        return [attrs.evolve(word, text=text)]
    x0, y0, x1, y1 = word.bbox
    total = sum(len(part) for part in parts)
    result, left = [], float(x0)
    for part in parts:
        right = left + (x1 - x0) * len(part) / total
        box = (round(left), y0, round(right), y1)
        result.append(PpocrWord(text=part, bbox=box, score=word.score))
        left = right
    return result


def recognize_line(image: Image.Image) -> tuple[str, float, StepChoices | None]:
    """The text of an image holding one line (no detection), its score, and the
    recognizer's choices along it ("" for an image with no pixels, which rapidocr fails
    on)."""
    if image.width == 0 or image.height == 0:
        return "", 0.0, None
    kept = _choices_kept()
    kept.start()
    try:
        result = _recognizer()(_pixels(image), use_det=False, use_cls=False, use_rec=True)
    finally:
        choices = kept.taken()
    if not result.txts:
        return "", 0.0, None
    text = str(result.txts[0]).strip()
    line_choices = choices[0] if len(choices) == 1 and choices[0].text == text else None
    if line_choices is not None:
        line_choices = with_half_seen_spaces(line_choices)
        text = line_choices.text
    return text, float(result.scores[0]), line_choices
