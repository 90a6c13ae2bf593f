"""Sessions: ``tests``, ``lint`` and ``bench``. ``scripts/test`` runs the first two."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite, on real Tesseract, poppler, SQLite and uvicorn."""
    session.install("-e", ".[server]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and mypy (strict on the SDK)."""
    session.install("-e", ".[server]", *nox.project.dependency_groups(PYPROJECT, "test", "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed and memory of the cpu tier, and its quality on the shared corpus.

    Writes bench/results/cpu.json and bench/results/corpus.json.
    """
    session.install("-e", ".[server]", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("python", "bench/cpu_tier.py", *session.posargs)
    session.run("python", "bench/corpus_quality.py")
