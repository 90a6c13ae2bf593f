"""Sessions: ``tests``, ``lint``, ``docs`` and ``bench``. ``scripts/test`` runs the first
three."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "docs"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"
# The vlm tier's client (surya-ocr) comes with torch; pinned in the same pip command,
# torch stays the CPU build instead of gigabytes of CUDA wheels (docs/vlm.md). The
# scale-out mode's libraries come too: its tests run on real PostgreSQL and Redis.
WITH_VLM = (".[vlm,scale,jupyter,pandas]", "torch==2.13.0")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite, on real Tesseract, poppler, SQLite and uvicorn."""
    session.install("-e", *WITH_VLM, *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy (strict on the SDK)."""
    session.install("-e", *WITH_VLM, *nox.project.dependency_groups(PYPROJECT, "test", "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site, built strictly into build/site (a broken link or anchor, or
    a page the hook cannot generate, fails it). ``mkdocs serve`` shows it while you edit.

    Its hook imports the server (the OpenAPI document, the languages of this machine's
    Tesseract), so the server is installed as for ``tests``.
    """
    session.install("-e", ".[server]", *nox.project.dependency_groups(PYPROJECT, "docs"))
    # Material's notice about MkDocs 2.0 is not a problem of this site
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed and memory of the cpu tier, and its quality on the shared corpus.

    Writes bench/results/cpu.json, bench/results/corpus.json,
    bench/results/throughput.json (against xargs tesseract), bench/results/polling.json,
    bench/results/scaleout.json (1, 2 and 4 workers, embedded and scale-out: PostgreSQL
    and Redis from Debian, started by the bench), bench/results/hostile_load.json (200
    submitters, 200 pollers of a 500-page job, 1,000 slow connections) and
    bench/results/searchable_pdf.json (against ocrmypdf from PyPI), bench/results/exports.json
    and bench/results/web_app.json (the web app's job page of a 50-page scan, in chromium).
    """
    session.install("-e", *WITH_VLM, *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("python", "bench/cpu_tier.py", *session.posargs)
    session.run("python", "bench/corpus_quality.py")
    session.run("python", "bench/throughput.py")
    session.run("python", "bench/polling.py")
    session.run("python", "bench/scaleout.py")
    session.run("python", "bench/hostile_load.py")
    session.run("python", "bench/exports.py")
    session.run("python", "bench/web_app.py")
    # ocrmypdf wants a newer Pillow than surya-ocr allows: a virtual environment of its own
    ocrmypdf_env = Path(session.create_tmp()) / "ocrmypdf"
    session.run("python", "-m", "venv", str(ocrmypdf_env))
    session.run(str(ocrmypdf_env / "bin" / "pip"), "install", "-q", "ocrmypdf>=17", external=True)
    session.run(
        "python",
        "bench/searchable_pdf.py",
        env={"OCRMYPDF": str(ocrmypdf_env / "bin" / "ocrmypdf")},
    )
