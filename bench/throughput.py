"""Server throughput on dense scanned PNG pages against ``xargs -P CORES tesseract``.

    nox -s bench                 # or: python bench/throughput.py

The pages are the four dense typewritten and printed scans in ``tests/data``
(EHRI Dataset, CC BY 4.0; Campbell 1881, GT4HistComment, CC BY 4.0; see
``tests/data/README.md``), stored as PNG (their pixels as published), each twice. In one
run, on the same cores:

- the command line: ``xargs -P CORES tesseract PAGE OUT -l LANG`` with
  ``OMP_THREAD_LIMIT=1``;
- our server (``ocrchat-server serve``, a worker per core) with every page posted at once
  as a one-page job, four ways: ``engine=tesseract`` and the default engine, each with the
  page's language named and with ``language=auto``.

Each server run starts warm (a page per worker read first, not timed). Each side is
timed ``REPEATS`` times and its median kept (every round is recorded): with eight pages
of unequal length on two workers, how they happen to fall moves one round by up to 10%.
The figure to beat is the command line's time: ``against_command`` above 1.0 is faster
than it.

It also reads each page once in one process with Tesseract called as a command
(pytesseract's ``image_to_data``: a PNG written, the models loaded; Debian's Tesseract)
and through the server's kept-loaded binding (tesserocr, the Tesseract of its wheel),
and says what share of the command's words the library reads the same.

Results go to ``bench/results/throughput.json`` (and are printed).
"""

from __future__ import annotations

import difflib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_server, write_results  # noqa: E402
from tests.documents import TEST_DATA  # noqa: E402

from ocrchat_server.engines import tesseract_api  # noqa: E402
from ocrchat_server.engines.tesseract import read_data  # noqa: E402

PAGES = {
    "en_ehri_typed_dr19390519_03.jpg": "eng",
    "en_ehri_typed_yv3549264_03.jpg": "eng",
    "de_ehri_typed_wl1375b189_02.jpg": "deu",
    "en_multicol_campbell_1881_p63.png": "eng",
}
ROUNDS = 2
REPEATS = 3


def png_pages(folder: Path) -> list[tuple[Path, str]]:
    """Each scan as a PNG of its own pixels (resolution kept), with its language; twice."""
    pages = []
    for round_number in range(ROUNDS):
        for name, language in PAGES.items():
            target = folder / f"{Path(name).stem}-{round_number}.png"
            with Image.open(TEST_DATA / name) as scan:
                scan.save(target, dpi=scan.info.get("dpi", (300, 300)))
            pages.append((target, language))
    return pages


def command_line(pages: list[tuple[Path, str]], cores: int, out: Path) -> float:
    """Every page through ``xargs -P CORES tesseract``, as a user would run it."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    lines = "\n".join(f"{page} {out / page.stem} -l {language}" for page, language in pages)
    started = time.perf_counter()
    subprocess.run(
        ["xargs", "-P", str(cores), "-L", "1", "tesseract"],
        input=lines,
        text=True,
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def server_run(
    pages: list[tuple[Path, str]], cores: int, tmp: Path, *, engine: str, auto: bool
) -> list[float]:
    """Every page posted at once as a one-page job (answered inline); the wall time of each
    of ``REPEATS`` rounds on one warm server."""
    name = f"{engine}-{'auto' if auto else 'named'}"
    with bench_server(tmp / f"data-{name}", cores) as (client, headers, _):

        def post(page: tuple[Path, str]) -> None:
            path, language = page
            job = client.post(
                "/api/v1/ocr/",
                headers=headers,
                files={"file": (path.name, path.read_bytes())},
                data={"language": "auto" if auto else language, "engine": engine},
            ).json()
            assert job["status"] == "done", job

        with ThreadPoolExecutor(max_workers=len(pages)) as pool:
            list(pool.map(post, pages[:cores]))  # warm: the workers start and load models
            rounds = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                list(pool.map(post, pages))
                rounds.append(time.perf_counter() - started)
            return rounds


def binding(pages: list[tuple[Path, str]]) -> dict[str, object]:
    """The command (pytesseract) against the kept-loaded library, page by page, one process;
    both on one thread (importing the engines set ``OMP_THREAD_LIMIT=1`` for this process
    and the commands it starts)."""
    command_seconds = library_seconds = 0.0
    matched = total = 0
    for path, language in pages[: len(PAGES)]:
        with Image.open(path) as page:
            page.load()
            dpi = round(page.info["dpi"][0])
            read_data(page, language, dpi, 0)  # loads the models, not timed
            started = time.perf_counter()
            by_command = pytesseract.image_to_data(
                page, lang=language, config=f"--dpi {dpi}", output_type=pytesseract.Output.DICT
            )
            command_seconds += time.perf_counter() - started
            started = time.perf_counter()
            by_library = read_data(page, language, dpi, 0)
            library_seconds += time.perf_counter() - started
        words = [str(text).strip() for text in by_command["text"] if str(text).strip()]
        library_words = [text.strip() for text in by_library["text"] if text.strip()]
        blocks = difflib.SequenceMatcher(None, words, library_words, autojunk=False)
        matched += sum(block.size for block in blocks.get_matching_blocks())
        total += len(words)
    return {
        "pages": len(PAGES),
        "command_seconds": round(command_seconds, 2),
        "library_seconds": round(library_seconds, 2),
        "library_against_command": round(command_seconds / library_seconds, 2),
        "same_words_share": round(matched / total, 4) if total else None,
        "library": f"tesserocr on Tesseract {tesseract_api.version()}",
        "command": pytesseract.get_tesseract_version().base_version,
    }


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        pages = png_pages(tmp)
        out = tmp / "cli"
        out.mkdir()
        command_rounds = [command_line(pages, cores, out) for _ in range(REPEATS)]
        command = statistics.median(command_rounds)
        runs: dict[str, dict[str, Any]] = {}
        for engine in ("tesseract", "auto"):
            for auto in (False, True):
                rounds = server_run(pages, cores, tmp, engine=engine, auto=auto)
                seconds = statistics.median(rounds)
                runs[f"engine={engine}, language={'auto' if auto else 'named'}"] = {
                    "seconds": round(seconds, 2),
                    "pages_per_second": round(len(pages) / seconds, 3),
                    "against_command": round(command / seconds, 3),
                    "rounds_seconds": [round(value, 2) for value in rounds],
                }
        compared = binding(pages)
    for engine in ("tesseract", "auto"):
        named = runs[f"engine={engine}, language=named"]["seconds"]
        auto_run = runs[f"engine={engine}, language=auto"]
        auto_run["time_against_named"] = round(auto_run["seconds"] / named, 3)
    report = {
        "machine": {"cores": cores, "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pages": len(pages),
        "repeats": REPEATS,
        "command_line": {
            "seconds": round(command, 2),
            "pages_per_second": round(len(pages) / command, 3),
            "rounds_seconds": [round(value, 2) for value in command_rounds],
        },
        "server": runs,
        "binding": compared,
    }
    write_results("throughput.json", report)


if __name__ == "__main__":
    main()
