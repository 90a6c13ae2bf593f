"""The public service's three examples (curl, Python requests, Node fetch) against our server.

Each runs as a user would run it, in a subprocess, against a real uvicorn on
127.0.0.1, with only the base URL, token and file coming from the
environment. They ask for ``tier=vlm`` as the docs do: the live server's vlm
tier runs Surya's client against a stand-in inference server that reads the
pages with Tesseract (tests/fake_surya.py). One run also goes through the cpu
tier, with ``OCRCHAT_TIER=cpu``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid as uuid_module
from pathlib import Path

import docx
import pytest

from tests.conftest import Live
from tests.documents import image_bytes, numbered_pdf, render_page

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
INVOICE = ["INVOICE 2041", "Total due: 215 dollars"]


def run(live: Live, command: list[str], cwd: Path, **extra: str) -> str:
    env = {**os.environ, "OCRCHAT_BASE_URL": live.url, "OCRCHAT_API_TOKEN": live.alice}
    env.pop("OCRCHAT_TIER", None)  # the examples' own default: vlm
    env.update(extra)
    finished = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    (tmp_path / "invoice.png").write_bytes(image_bytes(render_page([INVOICE]), "PNG"))
    (tmp_path / "report.pdf").write_bytes(numbered_pdf(7))
    return tmp_path


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: scripts/setup-debian --test installs it"
    return found


@pytest.mark.parametrize(
    ("document", "tier"), [("invoice.png", "vlm"), ("report.pdf", "vlm"), ("invoice.png", "cpu")]
)
def test_python_requests(live: Live, documents: Path, document: str, tier: str) -> None:
    command = [sys.executable, str(EXAMPLES / "python_requests.py"), document]
    printed = run(live, command, documents, **({"OCRCHAT_TIER": "cpu"} if tier == "cpu" else {}))
    expected = (
        INVOICE
        if document == "invoice.png"
        else [f"Page {n} of the quarterly report" for n in range(1, 8)]
    )
    for line in expected:
        assert line in printed
    word = docx.Document(str(documents / "result.docx"))
    text = "\n".join(paragraph.text for paragraph in word.paragraphs)
    assert expected[-1] in text


@pytest.mark.parametrize("document", ["invoice.png", "report.pdf"])
def test_node_fetch(live: Live, documents: Path, document: str) -> None:
    printed = run(live, [tool("node"), str(EXAMPLES / "node_fetch.mjs"), document], documents)
    assert ("INVOICE 2041" if document == "invoice.png" else "Page 7 of the quarterly") in printed


def test_curl(live: Live, documents: Path) -> None:
    tool("curl")
    printed = run(live, ["bash", str(EXAMPLES / "curl.sh"), "report.pdf"], documents)
    uuid, status = printed.split()
    assert status == "done"
    markdown = (documents / "result.md").read_text()
    assert "Page 7 of the quarterly report" in markdown
    assert docx.Document(str(documents / "result.docx")).core_properties.title == "report.pdf"
    assert str(uuid_module.UUID(uuid)) == uuid
