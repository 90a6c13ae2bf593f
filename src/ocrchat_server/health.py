"""What ``/healthz`` reports beside "up": background tasks that died, and a full disk.

A background task (the page queue, the expiry sweep) that raises is logged, named
here while it waits to be restarted, and restarted with a growing delay: it once
died silently, and the server took uploads it never read.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

LOW_DISK_BYTES = 64 * 1024 * 1024
"""Free space under which the disk counts as full: uploads are refused well before."""
_RECENT_SECONDS = 600.0
_FIRST_DELAY = 1.0
_LONGEST_DELAY = 60.0


@attrs.define
class Failure:
    task: str
    error: str
    at: float
    """``time.time()`` of the failure."""


@attrs.define
class Health:
    """The server's background tasks and the folders it writes to."""

    folders: list[Path]
    down: dict[str, Failure] = attrs.Factory(dict)
    """Tasks that failed and wait to be restarted."""
    recent: list[Failure] = attrs.Factory(list)
    """Failures of the last ten minutes, the newest last."""

    def problems(self) -> list[str]:
        found = [
            f"background task {f.task} failed and is restarting: {f.error}"
            for f in self.down.values()
        ]
        for folder in self.folders:
            try:
                free = shutil.disk_usage(folder).free
            except OSError:
                continue
            if free < LOW_DISK_BYTES:
                found.append(f"the disk holding {folder} is full ({free >> 20} MB free)")
        return found

    def recent_failures(self) -> list[Failure]:
        horizon = time.time() - _RECENT_SECONDS
        self.recent = [failure for failure in self.recent if failure.at >= horizon]
        return list(self.recent)

    async def supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` until it returns; each time it raises, log it, report it, and start
        it again after a delay that doubles up to a minute."""
        delay = _FIRST_DELAY
        while True:
            try:
                await run()
                return
            except Exception as exc:
                log.exception("background task %s failed; restarting it in %g s", name, delay)
                failure = Failure(task=name, error=f"{type(exc).__name__}: {exc}", at=time.time())
                self.down[name] = failure
                self.recent.append(failure)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LONGEST_DELAY)
                self.down.pop(name, None)
