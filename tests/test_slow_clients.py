"""Slow and numerous clients against a real server on 127.0.0.1: a client that never
finishes its request is cut off, and the server keeps answering everyone else (issue 14).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ocrchat_server.http.connections import RepeatedLogFilter
from ocrchat_server.settings import Settings
from tests.live import LiveServer, make_accounts


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A server with short client timeouts and a small connection cap."""
    data_dir = tmp_path_factory.mktemp("slow") / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "alice")
    options = ["--header-timeout", "2s", "--body-timeout", "2s", "--max-connections", "40"]
    with LiveServer(data_dir, workers=1, extra_args=options) as server:
        yield server, token


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing the connection, or None if it kept it open."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return received


def healthz_seconds(server: LiveServer) -> float:
    started = time.monotonic()
    response = httpx.get(f"{server.url}/healthz", timeout=10)
    assert response.status_code == 200
    return time.monotonic() - started


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(guarded: tuple[LiveServer, str]) -> None:
    server, _ = guarded
    slow = [connect(server) for _ in range(20)]
    for sock in slow:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    # keep trickling header lines: each resets uvicorn's keep-alive timer, not ours
    for _ in range(2):
        time.sleep(0.5)
        for sock in slow:
            sock.sendall(b"X-Slow: 1\r\n")
        assert healthz_seconds(server) < 2  # everyone else is answered meanwhile
    for sock in slow:
        assert closed_by_server(sock, within=5) is not None
        sock.close()


def test_a_stalled_body_is_answered_408_and_closed(guarded: tuple[LiveServer, str]) -> None:
    server, token = guarded
    sock = connect(server)
    sock.sendall(
        b"POST /api/v1/ocr/ HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n"
        + b'--XX\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF'
    )
    answer = closed_by_server(sock, within=10)
    sock.close()
    assert answer is not None, "the stalled upload was kept open"
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code":"upload_stalled"' in answer.replace(b" ", b"")
    assert b"Traceback" not in answer


def test_over_the_connection_cap_new_requests_get_503_then_service_returns(
    guarded: tuple[LiveServer, str],
) -> None:
    server, _ = guarded
    idle = [connect(server) for _ in range(45)]  # over the cap of 40, sending nothing
    try:
        time.sleep(0.3)
        response = httpx.get(f"{server.url}/healthz", timeout=10)
        assert response.status_code == 503
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.url}/healthz", timeout=10).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_a_repeated_log_message_is_let_through_a_few_times(tmp_path: Path) -> None:
    logger = logging.getLogger("tests.flood")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(tmp_path / "log.txt")
    handler.addFilter(RepeatedLogFilter(burst=5, window=60))
    logger.addHandler(handler)
    try:
        for attempt in range(10_000):
            logger.error("socket.accept() out of system resource (try %d)", attempt)
        logger.error("a different message")
        for request in range(100):  # the access log's lines all pass
            logger.info("GET /api/v1/ocr/ %d", request)
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert len(lines) == 106
    assert lines[5] == "a different message"
