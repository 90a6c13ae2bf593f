"""``ocrchat-server doctor``: is everything the server needs on this machine, and if not, how
to get it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import attrs

from ocrchat_server.engines import tesseract_api
from ocrchat_server.engines.vlm_server import DEFAULT_MODEL, SURYA_INSTALLED, probe
from ocrchat_server.exports.searchable_pdf import TEXT_LAYER_FONT

_TORCH_CPU = "2.13.0"
"""The torch pinned beside surya-ocr so pip keeps a CPU build (see docs/vlm.md)."""
_WHEEL_TESSERACT = (5, 5)
"""The Tesseract that tesserocr's wheel carries: the one the server is measured with."""


@attrs.frozen
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    required: bool = True


def _version(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def run_checks(*, vlm_url: str | None = None, vlm_model: str = DEFAULT_MODEL) -> list[Check]:
    checks: list[Check] = []
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        checks.append(
            Check(
                "tesseract", False, "not found", "apt-get install tesseract-ocr tesseract-ocr-all"
            )
        )
    else:
        command_version = _version([tesseract, "--version"]) or "found"
        checks.append(Check("tesseract", True, command_version))
        checks.append(_library_check(command_version))
        listing = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[1:]
        models = {line.strip() for line in listing if line.strip()}
        languages = sorted(m for m in models if m.islower() and m != "osd")
        scripts = sorted(m for m in models if m[:1].isupper())
        checks.append(
            Check(
                "language models",
                bool(languages),
                f"{len(languages)} languages, {len(scripts)} scripts",
                None
                if languages
                else "apt-get install tesseract-ocr-all (or tesseract-ocr-<code>)",
            )
        )
        checks.append(
            Check(
                "language=auto",
                "osd" in models and "Latin" in models,
                "orientation and script detection (osd) and the Latin script model",
                None
                if "osd" in models and "Latin" in models
                else "apt-get install tesseract-ocr-osd tesseract-ocr-script-latn",
            )
        )
    missing = [tool for tool in ("pdftoppm", "pdfinfo") if shutil.which(tool) is None]
    checks.append(
        Check(
            "poppler",
            not missing,
            f"missing {', '.join(missing)}" if missing else "reads PDFs",
            "apt-get install poppler-utils" if missing else None,
        )
    )
    has_qpdf = shutil.which("qpdf") is not None
    checks.append(
        Check(
            "qpdf",
            has_qpdf,
            "joins the searchable PDF's pages" if has_qpdf else "not found",
            None if has_qpdf else "apt-get install qpdf",
        )
    )
    has_font = TEXT_LAYER_FONT.exists()
    checks.append(
        Check(
            "text layer font",
            has_font,
            str(TEXT_LAYER_FONT) if has_font else "not found",
            None if has_font else "apt-get install fonts-unifont",
        )
    )
    checks += _vlm_checks(vlm_url, vlm_model)
    return checks


def _library_check(command_version: str) -> Check:
    """The Tesseract library the server reads with (tesserocr), beside the command's.

    tesserocr's wheel carries Tesseract 5.5, which reads about a fifth faster than the
    5.3 of Debian's command (docs/engines.md); a tesserocr built from source against an
    older libtesseract works, more slowly.
    """
    library = tesseract_api.version()
    current = _version_tuple(library) >= _WHEEL_TESSERACT
    command = command_version.removeprefix("tesseract ").strip()
    return Check(
        "tesseract library",
        current,
        f"tesserocr on Tesseract {library}"
        + ("" if command == library else f" (command: {command})"),
        None if current else "pip install --force-reinstall --only-binary tesserocr tesserocr",
        required=False,
    )


def _version_tuple(version: str) -> tuple[int, ...]:
    """``5.5.4`` as (5, 5, 4); what is not a number ends it (``5.3.0-rc1`` is (5, 3))."""
    numbers = []
    for part in version.split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def _vlm_checks(url: str | None, model: str) -> list[Check]:
    """Surya's client in this environment, and, when one is named, its inference server."""
    checks: list[Check] = []
    surya = SURYA_INSTALLED
    checks.append(
        Check(
            "surya-ocr",
            surya,
            "installed" if surya else "not installed (the vlm tier's client)",
            None if surya else f"pip install -e '.[vlm]' torch=={_TORCH_CPU} (see docs/vlm.md)",
            required=url is not None,
        )
    )
    if url is None:
        checks.append(
            Check(
                "vlm server",
                False,
                "not configured; the vlm tier answers 503",
                "run llama-server or vLLM with Surya 2's model and pass --vlm-url "
                "http://HOST:PORT/v1 (see docs/vlm.md)",
                required=False,
            )
        )
        return checks
    status = asyncio.run(probe(url, model))
    checks.append(
        Check(
            "vlm server",
            status.ready,
            f"{url} serves {model}" if status.ready else status.detail,
            None if status.ready else "start the server, or check --vlm-url and --vlm-model",
        )
    )
    return checks
