"""Tesseract kept loaded: one tesserocr API per model set in each worker process.

Calling the ``tesseract`` command (what pytesseract does) loads the models again
for every page and round-trips the page through a PNG file: about 0.08 s a page
on the corpus with Debian's fast models, more with two models (``deu+grc``), and
most of a small image's time (a table cell, an OSD call). tesserocr keeps an API
loaded, so a worker pays the load once per model set.

The library is the one tesserocr's wheel carries (Tesseract 5.5), not Debian's 5.3
that the ``tesseract`` command is: on the shared corpus it read 19% faster with
Debian's models, and through the server its character error rate is the command's
(0.99x, handwriting aside; bench/results/corpus.json, and throughput.json compares the
two's words). Its one known regression, lines of Arabic-script text dropped as noise,
is undone below.

OpenMP's thread limit is set before this module loads the library: see
:mod:`ocrchat_server.engines`.

Pages go in as raw pixels (``SetImageBytes``): tesserocr's ``SetImage`` encodes
an image without a format as JPEG, which would blur a lossless page.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import tesserocr
from PIL import ImageChops

from ocrchat_server.engines.languages import tessdata_dir

if TYPE_CHECKING:
    from PIL import Image

_KEPT_MODEL_SETS = 6
"""Model sets kept loaded per process: a page's auto path may try three or four (``osd``,
``Latin``, then ``deu``, ``deu+eng``), and pages in two languages take turns; each costs 20
to 90 MB of the worker's memory, and loading one again 0.2 to 0.3 s."""
_OSD = "osd"
_ARABIC_SCRIPT_MODELS = frozenset(
    {"ara", "fas", "urd", "pus", "snd", "uig", "kur_ara", "script/Arabic"}
)
"""Models of Arabic-script languages: Tesseract 5.4 and later take whole lines of their
dotted letters for noise and drop them (tesseract-ocr/tesseract#4582; the first line of
each paragraph of our Arabic test pages), unless noise rows and words are kept."""
_KEEP_NOISE = {"textord_noise_rejrows": "0", "textord_noise_rejwords": "0"}
# image_to_data's columns, as the TSV renderer writes them (it has no header row)
_COLUMNS = (
    "level", "page_num", "block_num", "par_num", "line_num", "word_num",
    "left", "top", "width", "height", "conf", "text",
)  # fmt: skip
_FLOAT_COLUMNS = frozenset({"conf"})
SINGLE_BLOCK = tesserocr.PSM.SINGLE_BLOCK
"""Page segmentation for a crop holding one block of text (``--psm 6``)."""


class TesseractCallError(RuntimeError):
    """Tesseract could not load its models or read the image."""


_lock = threading.Lock()
"""One API may not be used by two threads at once: a worker reads one page at a time,
but a process that reads pages in threads (tests do) takes turns."""
_apis: collections.OrderedDict[tuple[str, int], tesserocr.PyTessBaseAPI] = collections.OrderedDict()


def version() -> str:
    """The version of the Tesseract library that reads pages (``5.5.4``)."""
    first = str(tesserocr.tesseract_version()).split("\n", 1)[0]
    return first.removeprefix("tesseract ").strip()


def read_data(
    image: Image.Image, models: str, *, dpi: int | None, psm: int = tesserocr.PSM.AUTO
) -> dict[str, list[Any]]:
    """Every block, paragraph, line and word Tesseract reads on the page, by column.

    The same shape as ``pytesseract.image_to_data(..., output_type=DICT)``: geometry
    as ints, ``conf`` as a float (-1 above word level), ``text`` as a string.
    """
    with _loaded(models, psm) as api:
        _set_page(api, image, dpi)
        tsv = api.GetTSVText(0)
    if tsv is None:
        raise TesseractCallError("Tesseract found no page in the image")
    data: dict[str, list[Any]] = {column: [] for column in _COLUMNS}
    for row in tsv.splitlines():
        values = row.split("\t", len(_COLUMNS) - 1)
        if len(values) < len(_COLUMNS):
            values.append("")  # a row above word level ends before its text
        for column, value in zip(_COLUMNS, values, strict=True):
            if column == "text":
                data[column].append(value)
            elif column in _FLOAT_COLUMNS:
                data[column].append(float(value))
            else:
                data[column].append(int(value))
    return data


def read_text(
    image: Image.Image, models: str, *, dpi: int | None, psm: int = tesserocr.PSM.AUTO
) -> str:
    """The page's text, as ``tesseract IMAGE - --psm PSM`` prints it."""
    with _loaded(models, psm) as api:
        _set_page(api, image, dpi)
        return str(api.GetUTF8Text() or "")


def orientation_and_script(
    image: Image.Image, *, dpi: int | None, min_characters: int | None = None
) -> dict[str, Any] | None:
    """Tesseract's OSD of the page, or None where it finds too little text to say.

    Keys as ``tesseract --psm 0`` prints them: ``rotate`` (how far to turn the page
    clockwise), ``orientation_conf``, ``script`` and ``script_conf``.
    """
    with _loaded(_OSD, tesserocr.PSM.OSD_ONLY) as api:
        if min_characters is not None:
            api.SetVariable("min_characters_to_try", str(min_characters))
        try:
            _set_page(api, image, dpi)
            found = api.DetectOrientationScript()
        finally:
            if min_characters is not None:
                api.SetVariable("min_characters_to_try", "50")  # Tesseract's default
    if not found:
        return None
    # DetectOrientationScript gives the page's own turn (counter-clockwise); the
    # command's "Rotate" is the clockwise turn that makes it upright
    return {
        "rotate": (360 - int(found["orient_deg"])) % 360,
        "orientation_conf": float(found["orient_conf"]),
        "script": str(found["script_name"]),
        "script_conf": float(found["script_conf"]),
    }


@contextmanager
def _loaded(models: str, psm: int) -> Iterator[tesserocr.PyTessBaseAPI]:
    """The process's API for ``models`` with page segmentation ``psm``, made on first use."""
    key = (models, int(psm))
    with _lock:
        api = _apis.get(key)
        if api is None:
            try:
                api = tesserocr.PyTessBaseAPI(path=f"{tessdata_dir()}/", lang=models, psm=psm)
            except RuntimeError as exc:
                raise TesseractCallError(f"Tesseract could not load '{models}': {exc}") from exc
            if _ARABIC_SCRIPT_MODELS.intersection(models.split("+")):
                for name, value in _KEEP_NOISE.items():
                    api.SetVariable(name, value)
            _apis[key] = api
            while len(_apis) > _KEPT_MODEL_SETS:
                _, oldest = _apis.popitem(last=False)
                oldest.End()
        _apis.move_to_end(key)
        try:
            yield api
        finally:
            api.Clear()  # drop the page's image and results; the models stay


def _set_page(api: tesserocr.PyTessBaseAPI, image: Image.Image, dpi: int | None) -> None:
    """Hand the page over as raw 8-bit grey or 24-bit RGB pixels."""
    pixels = _as_read(image)
    depth = 1 if pixels.mode == "L" else 3
    try:
        api.SetImageBytes(
            pixels.tobytes(), pixels.width, pixels.height, depth, depth * pixels.width
        )
    except RuntimeError as exc:
        raise TesseractCallError(f"Tesseract could not take the image: {exc}") from exc
    if dpi:
        api.SetSourceResolution(dpi)


def _as_read(image: Image.Image) -> Image.Image:
    """The page as grey or RGB pixels: grey where it is grey, even when stored as colour.

    A grey scan saved as RGB, or as a palette of greys, reads 7 to 9% faster as one grey
    channel (Tesseract thresholds each colour channel on its own), with the same words:
    Tesseract's grey of three equal channels is their value, as Pillow's is.
    """
    if image.mode == "L":
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode == "P" and _grey_palette(image):
        return image.convert("L")
    pixels = image if image.mode == "RGB" else image.convert("RGB")
    red, green, blue = pixels.split()
    if ImageChops.difference(red, green).getbbox() or ImageChops.difference(green, blue).getbbox():
        return pixels
    return red


def _grey_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3))
