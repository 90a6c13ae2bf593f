"""Real PostgreSQL and Redis servers for the scale-out tests, on loopback, in temporary
directories: Debian's ``postgresql`` and ``redis-server`` packages (installed by
``scripts/setup-debian --test``), started here and stopped after."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

import pytest

from tests.live import Started, free_port

_PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _require(tool: str, found: bool) -> None:
    """A missing server program fails the test, never skips it: ``scripts/test`` (what CI
    runs) installs it."""
    if not found:
        pytest.fail(f"{tool} is not installed: run scripts/setup-debian --test")


class PostgresServer(Started):
    """``initdb`` + ``postgres`` on 127.0.0.1:<free port>, one database ``ocrchat``.

    PostgreSQL refuses to run as root: as root, the server runs as Debian's
    ``postgres`` user (the package creates it)."""

    def __init__(self) -> None:
        _require("PostgreSQL (postgresql)", bool(_PG_BINARIES))
        self.bin = _PG_BINARIES[0]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ocrchat-pg-"))
        self._as: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://ocrchat@127.0.0.1:{self.port}/ocrchat"

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as, *command], check=True, capture_output=True, cwd=self.dir)

    def start(self) -> Self:
        data = self.dir / "data"
        self._run(
            str(self.bin / "initdb"), "-D", str(data), "-U", "ocrchat", "--auth=trust", "-E", "UTF8"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "ocrchat",
            "ocrchat",
        )
        return self

    def create_database(self, name: str) -> str:
        """A new, empty database with the current schema; returns its URL."""
        from ocrchat_server.jobs.scaleout.migrate import upgrade

        self._run(
            str(self.bin / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "ocrchat",
            name,
        )
        url = f"postgresql://ocrchat@127.0.0.1:{self.port}/{name}"
        upgrade(url)
        return url

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"
            )
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer(Started):
    """``redis-server`` on 127.0.0.1:<free port>, nothing saved to disk."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        _require("Redis (redis-server)", self.binary is not None)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ocrchat-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        assert self.binary is not None
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def fresh_database(self, number: int) -> str:
        """The URL of Redis database ``number`` (0 to 15), emptied."""
        import redis

        url = f"redis://127.0.0.1:{self.port}/{number % 16}"
        redis.Redis.from_url(url).flushdb()
        return url

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
