"""A real ``ocrchat-server serve`` in a subprocess on 127.0.0.1.

For what an in-process ASGI client cannot show: restarts, crashes, logs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from ocrchat_server.jobs.backends import open_backend
from ocrchat_server.jobs.interfaces import Backend
from ocrchat_server.settings import Settings


def backend_of(client: Any) -> Backend:
    """The records and storage of the app a ``TestClient`` runs, through their interfaces."""
    backend: Backend = client.app.state.services.backend
    return backend


def make_accounts(settings: Settings, *names: str, plan: str = "pro") -> list[str]:
    """Create accounts in the server's records; returns their API tokens.

    On the pro plan unless told otherwise: tests other than metering's need room.
    """
    backend = open_backend(settings)
    try:
        return [backend.accounts.create_account(name, plan=plan)[1] for name in names]
    finally:
        backend.close()


def child_pids(pid: int) -> list[int]:
    """The direct children of process ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(child) for child in (task / "children").read_text().split())
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Started:
    """Something the tests start and stop, usable as ``with Thing() as thing``."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ProcessGroup(Started):
    """A command run in a process group of its own (as systemd runs a service), its output
    appended to a log; stopped or killed with every process it started."""

    process: subprocess.Popen[bytes] | None = None
    stop_timeout = 20.0
    """Seconds a SIGTERM is given before SIGKILL."""

    def spawn(self, command: list[str], log: Path) -> subprocess.Popen[bytes]:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self.process

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, with no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill()


class LiveServer(ProcessGroup):
    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 2,
        log: Path | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.extra_args = extra_args or []
        self.port = free_port()
        self.log = log or data_dir.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        process = self.spawn(
            [
                sys.executable,
                "-m",
                "ocrchat_server",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--workers",
                str(self.workers),
                *self.extra_args,
            ],
            self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start in 60 s")


class WorkerProcess(ProcessGroup):
    """``ocrchat-server worker`` in its own process group (as systemd would run it)."""

    def __init__(
        self,
        settings: Settings,
        log: Path,
        *,
        concurrency: int = 1,
        visibility_timeout: str = "10s",
        extra_args: list[str] | None = None,
    ) -> None:
        """``visibility_timeout``: how long after its worker died a page goes to another."""
        assert settings.database_url
        assert settings.broker_url
        assert settings.storage
        self.command = [
            sys.executable,
            "-m",
            "ocrchat_server",
            "worker",
            "--database-url",
            settings.database_url,
            "--broker-url",
            settings.broker_url,
            "--storage",
            str(settings.storage),
            "--data-dir",
            str(settings.data_dir),
            "--page-visibility-timeout",
            visibility_timeout,
            "--concurrency",
            str(concurrency),
            *(extra_args or []),
        ]
        self.log = log

    # a worker stops after the page in hand
    stop_timeout = 30.0

    def start(self) -> Self:
        self.spawn(self.command, self.log)
        return self
