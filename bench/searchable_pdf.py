"""A scanned 10-page PDF to a searchable PDF: our server against ocrmypdf, side by side.

    nox -s bench                 # or: python bench/searchable_pdf.py

The PDF holds five real scans from ``tests/data`` (EHRI Dataset, CC BY 4.0; see
``tests/data/README.md``), each twice, embedded as they are (JPEG), as a
scanner writes them. In one run, on the same cores:

- ``ocrmypdf -l eng+deu -j CORES --output-type pdf`` (ocrmypdf from PyPI, Debian's
  Tesseract; the command in ``$OCRMYPDF``, else on the PATH), and
- our server (``ocrchat-server serve``, a worker per core), once with the default
  engine and once with ``engine=tesseract``: upload, wait, download the PDF,

with each one's wall time, the output's size against the input's, and the CER of
the output's text layer (``pdftotext``) against the pages' ground truth. It also
times the command-line pipeline (``pdfimages`` + ``xargs -P CORES tesseract``
with ``OMP_THREAD_LIMIT=1``) on the same pages, the throughput to beat, and
one page answered inline through HTTP against one ``tesseract`` run on it.

Results go to ``bench/results/searchable_pdf.json`` (and are printed).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_server, write_results  # noqa: E402
from tests.documents import TEST_DATA, corpus_scorer, scanned_pdf  # noqa: E402

from ocrchat_server.engines import tesseract_api  # noqa: E402

SCANS = [
    "en_ehri_typed_dr19390519_03.jpg",
    "en_ehri_typed_yv3549264_03.jpg",
    "de_ehri_typed_wl1375b189_02.jpg",
    "en_ehri_typed_dr19390519_03.jpg",
    "en_ehri_typed_yv3549264_03.jpg",
]
LANGUAGE = "eng+deu"


def ten_scanned_pages(path: Path) -> list[str]:
    """The PDF (the scans twice over, as stored); returns each page's ground truth."""
    scans = [TEST_DATA / name for name in SCANS * 2]
    scanned_pdf(scans, path)
    return [scan.with_suffix(".gt.txt").read_text(encoding="utf-8") for scan in scans]


def layer_cer(pdf: Path, truth: list[str]) -> float:
    """Micro CER of the PDF's text layer, page by page, against the ground truth."""
    score_pair = corpus_scorer().score_pair
    edits = chars = 0
    for number, reference in enumerate(truth, start=1):
        text = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        scored = score_pair(reference, text)
        edits += scored["char_edits"]
        chars += scored["ref_chars"]
    return round(edits / chars, 4)


def run_ocrmypdf(source: Path, out: Path, cores: int) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    # ocrmypdf lives in a virtual environment of its own (it needs a newer Pillow than
    # surya-ocr allows); nox -s bench makes it and says where
    command = [os.environ.get("OCRMYPDF", "ocrmypdf"), "-l", LANGUAGE, "-j", str(cores)]
    started = time.perf_counter()
    subprocess.run(
        [*command, "--output-type", "pdf", str(source), str(out)],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def run_command_line(source: Path, work: Path, cores: int) -> float:
    """pdfimages, then tesseract on every page image through xargs, as a user would."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    subprocess.run(["pdfimages", "-all", str(source), str(work / "page")], check=True)
    images = sorted(str(path) for path in work.glob("page-*"))
    subprocess.run(
        ["xargs", "-P", str(cores), "-I{}", "tesseract", "{}", "{}", "-l", LANGUAGE],
        input="\n".join(images),
        text=True,
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def run_server(source: Path, out: Path, tmp: Path, cores: int, engine: str) -> float:
    with bench_server(tmp / f"data-{engine}", cores) as (client, headers, _):
        # the workers start with the first job: a one-page warm-up, not timed
        warm = client.post(
            "/api/v1/ocr/",
            headers=headers,
            files={"file": ("warm.jpg", (TEST_DATA / SCANS[0]).read_bytes())},
            data={"language": LANGUAGE, "engine": engine},
        )
        warm.raise_for_status()
        started = time.perf_counter()
        job = client.post(
            "/api/v1/ocr/",
            headers=headers,
            files={"file": (source.name, source.read_bytes())},
            data={"language": LANGUAGE, "engine": engine},
        ).json()
        while job["status"] not in ("done", "failed"):
            time.sleep(0.1)
            job = client.get(f"/api/v1/ocr/{job['uuid']}/", headers=headers).json()
        assert job["status"] == "done", job.get("error")
        download = client.get(f"/api/v1/ocr/{job['uuid']}/download/?format=pdf", headers=headers)
        download.raise_for_status()
        seconds = time.perf_counter() - started
    out.write_bytes(download.content)
    return seconds


def inline_latency(tmp: Path, cores: int) -> dict[str, float]:
    """One page answered inline (the POST returns the finished job), end to end through
    HTTP, against one ``tesseract`` run on the same page: the median of three each."""
    page = TEST_DATA / SCANS[0]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    command = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            ["tesseract", str(page), "-", "-l", "eng"], capture_output=True, check=True, env=env
        )
        command.append(time.perf_counter() - started)
    result = {"tesseract_command": round(statistics.median(command), 2)}
    for engine in ("auto", "tesseract"):
        with bench_server(tmp / f"inline-{engine}", cores) as (client, headers, _):
            fields = {"language": "eng", "engine": engine}
            timings = []
            for attempt in range(4):  # the first starts the workers: not counted
                started = time.perf_counter()
                job = client.post(
                    "/api/v1/ocr/",
                    headers=headers,
                    files={"file": (page.name, page.read_bytes())},
                    data=fields,
                ).json()
                assert job["status"] == "done", job
                if attempt:
                    timings.append(time.perf_counter() - started)
        seconds = statistics.median(timings)
        result[f"server_{engine}"] = round(seconds, 2)
        result[f"server_{engine}_against_command"] = round(seconds / result["tesseract_command"], 2)
    return result


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        source = tmp / "scans.pdf"
        truth = ten_scanned_pages(source)
        size = source.stat().st_size
        results: dict[str, dict[str, float]] = {}
        work = tmp / "cli"
        work.mkdir()
        results["tesseract_cli"] = {"seconds": round(run_command_line(source, work, cores), 2)}
        outputs: dict[str, tuple[Path, Callable[[Path], float]]] = {
            "ocrmypdf": (tmp / "ocrmypdf.pdf", lambda out: run_ocrmypdf(source, out, cores)),
            "server_default": (
                tmp / "default.pdf",
                lambda out: run_server(source, out, tmp, cores, "auto"),
            ),
            "server_tesseract": (
                tmp / "tesseract.pdf",
                lambda out: run_server(source, out, tmp, cores, "tesseract"),
            ),
        }
        for name, (out, run) in outputs.items():
            seconds = run(out)
            results[name] = {
                "seconds": round(seconds, 2),
                "size_ratio": round(out.stat().st_size / size, 3),
                "text_layer_cer": layer_cer(out, truth),
            }
        latency = inline_latency(tmp, cores)
    ocrmypdf = results["ocrmypdf"]["seconds"]
    for name in ("server_default", "server_tesseract"):
        results[name]["time_against_ocrmypdf"] = round(results[name]["seconds"] / ocrmypdf, 2)
    report = {
        "machine": {
            "cores": cores,
            "python": platform.python_version(),
            "tesseract": _version(),
            "server_tesseract_library": tesseract_api.version(),
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pages": len(truth),
        "input_bytes": size,
        "results": results,
        "inline_one_page_seconds": latency,
    }
    write_results("searchable_pdf.json", report)


def _version() -> str:
    tesseract = shutil.which("tesseract") or "tesseract"
    done = subprocess.run([tesseract, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0]


if __name__ == "__main__":
    main()
