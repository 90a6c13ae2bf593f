"""examples/notebook.ipynb, executed cell by cell with nbclient as Jupyter runs it, against a
real ``ocrchat-server serve`` on 127.0.0.1, with only the base URL and token coming from
the environment.

The server's chat goes through a stand-in language model (tests/fake_llm.py: no model
runs on the test machines), so the notebook's chat cells exercise the model path:
retrieval, the prompt, and the check that every citation is verbatim in the document.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

import ocrchat
from ocrchat_server.settings import Settings
from tests.fake_llm import FakeLLM
from tests.live import LiveServer, make_accounts

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "notebook.ipynb"
ANSWER = "The declarations had to be made by May 13."
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class AnsweringLog(list[dict[str, Any]]):
    """The stand-in model's request log, which scripts its reply to each request as the
    request is logged: :data:`ANSWER`, citing the first excerpt the server sent, character
    for character, as a model that follows the server's prompt does."""

    def __init__(self, llm: FakeLLM) -> None:
        super().__init__()
        self.llm = llm

    def append(self, request: dict[str, Any]) -> None:
        super().append(request)
        prompt = request["messages"][-1]["content"]
        first = re.search(r"^\[page (\d+)\] (.+)$", prompt, re.MULTILINE)
        citations = [{"page": int(first[1]), "snippet": first[2]}] if first else []
        self.llm.reply(ANSWER, citations)


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as llm:
        llm.requests = AnsweringLog(llm)
        yield llm


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that runs this interpreter (the test environment, where ocrchat,
    ipykernel, Pillow and pandas are installed), found first through a temporary
    ``JUPYTER_PATH``; Jupyter's and IPython's runtime files go to temporary directories
    too, so nothing outside the test's directory is read or written."""
    name = "ocrchat-notebook-test"
    spec = tmp_path / "jupyter" / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "ocrchat tests",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return name


def read_notebook() -> Any:
    return nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]


def outputs(notebook: Any, tag: str) -> list[Any]:
    """The outputs of the cell tagged ``tag``."""
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    found: list[Any] = cell.outputs
    return found


def rich(notebook: Any, tag: str, mime: str) -> str:
    """The ``mime`` data the cell tagged ``tag`` displayed (its result, or a display)."""
    for output in outputs(notebook, tag):
        if output.output_type in ("execute_result", "display_data") and mime in output.data:
            data: str = output.data[mime]
            return data
    raise AssertionError(f"cell {tag!r} shows no {mime}: {outputs(notebook, tag)}")


def printed(notebook: Any, tag: str) -> str:
    return "".join(o.text for o in outputs(notebook, tag) if o.output_type == "stream")


def test_the_committed_notebook_has_no_outputs() -> None:
    notebook = read_notebook()
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


def test_the_notebook_runs_against_a_real_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM, kernel: str
) -> None:
    data_dir = tmp_path / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "analyst")
    llm_args = ["--llm-url", llm.url, "--llm-model", "notebook-model"]
    with LiveServer(data_dir, workers=2, extra_args=llm_args) as server:
        monkeypatch.setenv("OCRCHAT_BASE_URL", server.url)
        monkeypatch.setenv("OCRCHAT_API_TOKEN", token)
        notebook = read_notebook()
        NotebookClient(
            notebook,
            kernel_name=kernel,
            timeout=240,
            resources={"metadata": {"path": str(EXAMPLES)}},  # Jupyter's working directory
        ).execute()
        with ocrchat.Client(token, base_url=server.url) as client:
            # the summary table of the job the notebook made, a real one on the server
            shown = rich(notebook, "job", "text/html")
            uuid = UUID.search(shown)
            assert uuid is not None
            job = client.get(uuid[0])
            assert job.status is ocrchat.JobStatus.DONE
            assert job.filename == "en_ehri_typed_dr19390519_03.jpg"
            assert f"<code>{uuid[0]}</code>" in shown
            assert "<b>done</b>" in shown
            assert "<th" in shown
            assert job.pages is not None
            assert job.pages[0].markdown
            assert html.escape(job.pages[0].markdown) in shown  # the page's Markdown, as text
            history = client.history(job)

    assert "analyst, pro plan" in printed(notebook, "connect")
    # the page with its boxes: a thumbnail with red lines on it
    boxes = Image.open(io.BytesIO(base64.b64decode(rich(notebook, "boxes", "image/png"))))
    assert max(boxes.size) == 700
    assert (255, 0, 0) in {color for _, color in boxes.convert("RGB").getcolors(1 << 20) or []}
    # the same page beside its text, and the page's own facts
    assert 'src="data:image/png;base64,' in rich(notebook, "show", "text/html")
    assert "<details><summary>Text (" in rich(notebook, "page", "text/html")
    # the table, as a DataFrame, with numbers from its text
    table = rich(notebook, "table", "text/html")
    assert 'class="dataframe' in table
    for cell in ("Quarter", "Revenue", "Profit", "Q4 2025", "1620"):
        assert f">{cell}</" in table
    assert "0.29" in rich(notebook, "figures", "text/html")  # Q4's margin: 470 / 1620
    cells = rich(notebook, "cells", "text/html")
    for column in ("page", "table", "row", "column", "text"):
        assert f"<th>{column}</th>" in cells
    # the model's answer, with the line it cited, and the follow-up in the same conversation
    answer = rich(notebook, "chat", "text/html")
    assert ANSWER in answer
    assert "p. 1: “" in answer
    assert printed(notebook, "follow-up").startswith(f"{ANSWER}\np. 1: ")
    assert [request["model"] for request in llm.requests] == ["notebook-model"] * 2
    asked = [request["messages"][-1]["content"] for request in llm.requests]
    assert "Question: By what date did the declarations have to be made?" in asked[0]
    assert "Question: Who has to prove birth in Hungary?" in asked[1]
    assert ANSWER in [m["content"] for m in llm.requests[1]["messages"]]  # the earlier turn
    (conversation,) = history.conversations
    assert len(conversation.messages) == 4
    assert conversation.conversation in rich(notebook, "history", "text/html")
