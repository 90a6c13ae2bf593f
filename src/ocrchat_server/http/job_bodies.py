"""Finished jobs' JSON, rendered once.

A done job's body never changes (deleted or expired, its record is gone, and the
lookup that precedes this answers 404 first), yet a client polls it again and again:
a 500-page job's 172 KB were read, shaped and serialized for every poll. The
rendered bytes are kept here, the most recently used first, up to a memory budget.
"""

from __future__ import annotations

import collections


class RenderedJobs:
    """Job id -> its rendered JSON body; used on the event loop only."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._bodies: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._held = 0

    def get(self, uuid: str) -> bytes | None:
        body = self._bodies.get(uuid)
        if body is not None:
            self._bodies.move_to_end(uuid)
        return body

    def put(self, uuid: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one huge job must not push out every other
        old = self._bodies.pop(uuid, None)
        self._held -= len(old) if old is not None else 0
        self._bodies[uuid] = body
        self._held += len(body)
        while self._held > self.max_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._held -= len(dropped)
