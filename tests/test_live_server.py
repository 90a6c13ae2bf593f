"""Against a real uvicorn on 127.0.0.1: the public docs' requests example, and the logs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ocrchat_server.settings import Settings
from tests.documents import image_bytes, numbered_pdf, render_page
from tests.live import LiveServer, make_accounts

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "python_requests.py"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    data_dir = tmp_path_factory.mktemp("live") / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "alice")
    with LiveServer(data_dir) as server:
        yield server, token


def run_example(server: LiveServer, token: str, document: Path, cwd: Path) -> str:
    env = {
        **os.environ,
        "OCRCHAT_BASE_URL": server.url,
        "OCRCHAT_API_TOKEN": token,
        "OCRCHAT_TIER": "cpu",
    }
    finished = subprocess.run(
        [sys.executable, str(EXAMPLE), str(document)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def test_the_requests_example_on_a_one_page_png(
    live: tuple[LiveServer, str], tmp_path: Path
) -> None:
    server, token = live
    page = tmp_path / "invoice.png"
    page.write_bytes(image_bytes(render_page([["INVOICE 2041", "Total due: 215 dollars"]]), "PNG"))
    printed = run_example(server, token, page, tmp_path)
    assert "INVOICE 2041" in printed
    assert "Total due: 215 dollars" in printed
    assert (tmp_path / "result.docx").exists()


def test_the_requests_example_on_a_seven_page_pdf(
    live: tuple[LiveServer, str], tmp_path: Path
) -> None:
    server, token = live
    document = tmp_path / "report.pdf"
    document.write_bytes(numbered_pdf(7))
    printed = run_example(server, token, document, tmp_path)
    for n in range(1, 8):
        assert f"Page {n} of the quarterly report" in printed


def test_tokens_never_reach_the_log(live: tuple[LiveServer, str]) -> None:
    server, token = live
    wrong = "ocr_abcdefabcdef_this-token-is-wrong-and-secret"
    with httpx.Client(base_url=server.url, timeout=60) as client:
        ok = client.get("/api/v1/account/", params={"api_token": token})
        assert ok.status_code == 200
        assert client.get("/api/v1/account/", params={"api_token": wrong}).status_code == 401
        assert (
            client.get("/api/v1/account/", headers={"Authorization": f"Bearer {wrong}"}).status_code
            == 401
        )
    log = server.log.read_text()
    assert '"GET /api/v1/account/" 200' in log  # requests are logged ...
    assert token not in log  # ... without their token
    assert wrong not in log
    assert "api_token" not in log
