"""A stand-in for a language model behind an OpenAI-compatible API, on 127.0.0.1.

No real model can run on the test machines, so this small server answers
``POST /v1/chat/completions`` with whatever the test scripts: a reply, an
error status, or silence past the client's timeout. It records every request.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.define
class Scripted:
    content: str = ""
    status: int = 200
    delay: float = 0.0


class FakeLLM:
    def __init__(self) -> None:
        self.next = Scripted()
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(json.loads(self.rfile.read(length)))
                scripted = fake.next
                time.sleep(scripted.delay)
                body = json.dumps(
                    {
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": scripted.content},
                            }
                        ]
                    }
                    if scripted.status == 200
                    else {"error": {"message": "model crashed"}}
                ).encode()
                try:
                    self.send_response(scripted.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting, as it should

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def reply(self, answer: str, citations: list[dict[str, Any]]) -> None:
        self.next = Scripted(content=json.dumps({"answer": answer, "citations": citations}))

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
