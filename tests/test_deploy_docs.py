"""The nginx configuration of docs/deploy.md, as written there, in front of a real server:
real nginx (Debian's), started on 127.0.0.1 with the page's server block (its TLS lines
swapped for a plain listener, as no certificate exists here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import ocrchat
from tests.conftest import Live
from tests.live import free_port
from tests.servers import _require

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"
_MB = 1024 * 1024


def _documented_server_block() -> str:
    text = DEPLOY.read_text(encoding="utf-8")
    match = re.search(r"```nginx\n(.*?)```", text, re.DOTALL)
    assert match, "docs/deploy.md has no nginx block"
    return match[1]


def _runnable(block: str, *, port: int, upstream: str) -> str:
    """The page's block with its TLS listener made a plain one on ``port`` and its
    upstream pointed at ``upstream``; every other line as the page has it."""
    lines = []
    for line in block.splitlines():
        if "ssl_certificate" in line:
            continue
        line = line.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
        line = line.replace("http://127.0.0.1:8000", upstream)
        lines.append(line)
    runnable = "\n".join(lines)
    assert f"listen 127.0.0.1:{port};" in runnable
    assert upstream in runnable
    return runnable


@pytest.fixture
def nginx(live: Live, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    _require("nginx", Path(binary).exists())
    port = free_port()
    block = _runnable(_documented_server_block(), port=port, upstream=live.url)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        # as root, nginx's workers would switch to nobody, who cannot write the test's
        # temporary folders
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        + "events {}\nhttp {\n"
        + f"access_log {tmp_path}/access.log;\n"
        + f"client_body_temp_path {temp['body']};\nproxy_temp_path {temp['proxy']};\n"
        + f"fastcgi_temp_path {temp['fastcgi']};\nuwsgi_temp_path {temp['uwsgi']};\n"
        + f"scgi_temp_path {temp['scgi']};\n"
        + block
        + "\n}\n"
    )
    checked = subprocess.run(
        [binary, "-t", "-c", str(config), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [binary, "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_documented_nginx_block_proxies_the_api(live: Live, nginx: str) -> None:
    health = httpx.get(f"{nginx}/healthz", timeout=10)
    assert health.status_code == 200
    # nginx's $request_id reaches the server, which answers with it: one id in both logs
    assert re.fullmatch(r"[0-9a-f]{32}", health.headers["x-request-id"])

    with ocrchat.Client(live.alice, base_url=nginx) as client:
        job = client.ocr(DEPLOY.parents[1] / "examples" / "data" / "invoice.pdf")
        assert job.text is not None
        assert "INVOICE" in job.text.upper()


def test_nginx_refuses_what_the_server_would_refuse_first(live: Live, nginx: str) -> None:
    """``client_max_body_size 100m`` matches the server's ``--max-upload-mb 100``: a larger
    upload is stopped at nginx, before it is read."""
    too_large = b"0" * (100 * _MB + 1)
    response = httpx.post(
        f"{nginx}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {live.alice}"},
        files={"file": ("big.pdf", too_large)},
        timeout=60,
    )
    assert response.status_code == 413
