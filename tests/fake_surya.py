"""A stand-in for Surya 2's inference server (llama-server or vLLM serving the model).

The model's weights cannot be had on these machines, so this small
OpenAI-compatible server answers in the shapes Surya's real client code
expects (the team's notes on Surya 2 have the details): ``/health``, ``/v1/models``, and
``/v1/chat/completions`` with the task told by the prompt's first words.
Its answers are the blocks a test gives it, which the test places over ink
it drew itself (Surya drops text blocks over blank paper). Given no blocks,
it reads the image it was sent with Tesseract and answers each line as a
Text block, so a whole document can go through the vlm tier and come back
with its own words. Every request is logged so a test can see what Surya sent.

Run as a program it takes llama-server's arguments (``--port``, ``--alias``)
and serves the blocks in ``$FAKE_SURYA_BLOCKS`` (a JSON file), logging requests
to ``$FAKE_SURYA_LOG``: a script that starts it stands in for the
``llama-server`` binary Surya spawns.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs
import pytesseract
from PIL import Image

MODEL = "datalab-to/surya-ocr-2"
FULL_PAGE = "OCR this image to HTML."
LAYOUT = "Output the layout"
TABLE_ROWS = "Output the table rows"
BLOCK = "OCR this block image to HTML."


@attrs.frozen
class FakeBlock:
    label: str
    """The model's raw label: ``Text``, ``Section-Header``, ``Table``, ``Equation-Block`` ..."""
    bbox: tuple[int, int, int, int]
    """0-1000 of the page image's width and height."""
    html: str


@attrs.define
class FakeSurya:
    blocks: list[FakeBlock] = attrs.Factory(list)
    block_html: str | None = None
    """The answer to a one-block request (Surya's table recognition, full mode)."""
    confidence: float = 0.95
    empty_full_page: bool = False
    """Answer the full-page request with nothing, as a model sometimes does: Surya then
    falls back to its layout request and one request per block."""
    model: str = MODEL
    health: int = 200
    """What ``/health`` answers: llama-server says 503 while it loads the model."""
    requests: list[dict[str, Any]] = attrs.Factory(list)
    log: Path | None = None
    """A file each request is appended to, as a JSON line (for a fake in another process)."""
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def prompts(self) -> list[str]:
        return [_prompt(request) for request in self.requests]

    def start(self, port: int = 0) -> FakeSurya:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reply(self, request: dict[str, Any]) -> str:
        prompt = _prompt(request)
        if prompt.startswith(FULL_PAGE):
            if self.empty_full_page:
                return ""
            blocks = self.blocks or _tesseract_lines(_image(request))
            return "".join(
                f'<div data-label="{b.label}" data-bbox="{" ".join(map(str, b.bbox))}">'
                f"{b.html}</div>"
                for b in blocks
            )
        if prompt.startswith(LAYOUT):
            return json.dumps(
                [
                    {"label": b.label, "bbox": " ".join(map(str, b.bbox)), "count": 100}
                    for b in self.blocks
                ]
            )
        if prompt.startswith(TABLE_ROWS):
            return json.dumps(
                [
                    {"label": "Row", "bbox": "0 0 1000 500"},
                    {"label": "Row", "bbox": "0 500 1000 1000"},
                    {"label": "Col", "bbox": "0 0 1000 1000"},
                ]
            )
        if prompt.startswith(BLOCK):
            return self.block_html or (self.blocks[0].html if self.blocks else "")
        return ""


def _image(request: dict[str, Any]) -> Image.Image:
    for message in request.get("messages", []):
        for part in message.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                data = part["image_url"]["url"].split(",", 1)[1]
                return Image.open(io.BytesIO(base64.b64decode(data)))
    raise ValueError("no image in the request")


def thousandths(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A pixel box in the model's 0-1000 coordinates, rounded outward to keep its ink."""
    (left, top, right, bottom), (width, height) = box, size
    return (
        left * 1000 // width,
        top * 1000 // height,
        -(-right * 1000 // width),
        -(-bottom * 1000 // height),
    )


def _tesseract_lines(image: Image.Image) -> list[FakeBlock]:
    """Each line Tesseract finds, as a Text block boxed in 0-1000 of the image."""
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, text in enumerate(data["text"]):
        if str(text).strip():
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            lines.setdefault(key, []).append(i)
    blocks = []
    for indexes in lines.values():
        left = min(data["left"][i] for i in indexes)
        top = min(data["top"][i] for i in indexes)
        right = max(data["left"][i] + data["width"][i] for i in indexes)
        bottom = max(data["top"][i] + data["height"][i] for i in indexes)
        box = thousandths((left, top, right, bottom), image.size)
        text = html.escape(" ".join(str(data["text"][i]) for i in indexes))
        blocks.append(FakeBlock("Text", box, f"<p>{text}</p>"))
    return blocks


def _prompt(request: dict[str, Any]) -> str:
    for message in request.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            return content
        for part in content or []:
            if part.get("type") == "text":
                return str(part.get("text", ""))
    return ""


def _handler(fake: FakeSurya) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the OpenAI client expects

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._body()
            if self.path == "/health":
                self._send(fake.health, {"status": "ok" if fake.health == 200 else "loading"})
            elif self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": fake.model}]})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            raw = self._body()
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": "not found"})
                return
            request = json.loads(raw)
            fake.requests.append(request)
            if fake.log is not None:
                with fake.log.open("a") as log:
                    log.write(json.dumps(request) + "\n")
            content = fake.reply(request)
            choice: dict[str, Any] = {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
            if request.get("logprobs"):
                logprob = math.log(fake.confidence)
                choice["logprobs"] = {
                    "content": [
                        {"token": content[:1] or " ", "logprob": logprob, "top_logprobs": []}
                    ]
                }
            self._send(
                200,
                {
                    "id": "fake",
                    "object": "chat.completion",
                    "model": fake.model,
                    "choices": [choice],
                },
            )

    return Handler


def main() -> None:
    """Stand in for ``llama-server``: take its arguments, serve the blocks of a JSON file."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--alias", default=MODEL)
    options, _ = parser.parse_known_args()  # -m, --mmproj, -ngl ... are llama-server's
    spec = json.loads(Path(os.environ["FAKE_SURYA_BLOCKS"]).read_text())
    fake = FakeSurya(
        blocks=[FakeBlock(b["label"], tuple(b["bbox"]), b["html"]) for b in spec],
        model=options.alias,
        log=Path(os.environ["FAKE_SURYA_LOG"]) if "FAKE_SURYA_LOG" in os.environ else None,
    ).start(options.port)
    threading.Event().wait()
    fake.stop()


if __name__ == "__main__":
    main()
