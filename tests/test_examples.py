"""Every script in examples/ run as a user runs it, in a subprocess, against a real uvicorn
server on 127.0.0.1, with only the base URL and token coming from the environment (the
notebook is run by tests/test_notebook.py).

The public service's three examples (curl, Python requests, Node fetch) ask for
``tier=vlm`` as its docs do: the server's vlm tier runs Surya's client against a stand-in
inference server that reads the pages with Tesseract (tests/fake_surya.py). One run also
goes through the cpu tier, with ``OCRCHAT_TIER=cpu``.

The SDK's examples read the sample documents in examples/data/ (made by its
make_samples.py, or copied from the corpus) from another working directory, as a user
running them from anywhere would. The chat example talks to a stand-in language model
(tests/fake_llm.py: no model runs on the test machines) that cites the excerpt sharing the
most words with the question; the server is started with ``--webhook-private-addresses``
so that it delivers to the webhook example's receiver on 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import http
import importlib.util
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid as uuid_module
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import docx
import httpx
import openpyxl
import pypdfium2
import pytest
import standardwebhooks
from PIL import Image

import ocrchat
from ocrchat_server.settings import Settings
from tests.conftest import Live
from tests.documents import image_bytes, numbered_pdf, render_page
from tests.fake_llm import FakeLLM, Scripted
from tests.fake_surya import FakeSurya
from tests.live import LiveServer, make_accounts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DATA = EXAMPLES / "data"
SCAN = "en_ehri_typed_dr19390519_03"
INVOICE = ["INVOICE 2041", "Total due: 215 dollars"]


def load_samples() -> ModuleType:
    """examples/data/make_samples.py: what the sample documents hold."""
    spec = importlib.util.spec_from_file_location("make_samples", DATA / "make_samples.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLES = load_samples()


def words(text: str) -> set[str]:
    """The words of ``text`` that say something: those of more than three letters."""
    return {word for word in re.findall(r"\w+", text.lower()) if len(word) > 3}


class ContractModel(list[dict[str, Any]]):
    """The stand-in model's request log, which scripts its reply to each request as it is
    logged: the excerpt sharing the most :func:`words` with the question, cited word for
    word as a model following the server's prompt does; or a crash (500) while ``failing``."""

    def __init__(self, llm: FakeLLM) -> None:
        super().__init__()
        self.llm = llm
        self.failing = False

    def append(self, request: dict[str, Any]) -> None:
        super().append(request)
        if self.failing:
            self.llm.next = Scripted(status=500)
            return
        prompt = request["messages"][-1]["content"]
        question = words(prompt.rsplit("Question:", 1)[1])
        excerpts = re.findall(r"^\[page (\d+)\] (.+)$", prompt, re.MULTILINE)
        page, line = max(excerpts, key=lambda e: len(question & words(e[1])))
        citations = [{"page": int(page), "snippet": line}]
        self.llm.reply(f"The contract says: {line}", citations)


@pytest.fixture(scope="module")
def model() -> Iterator[ContractModel]:
    with FakeLLM() as llm:
        log = ContractModel(llm)
        llm.requests = log
        yield log


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, model: ContractModel) -> Iterator[Live]:
    """This module's server: as the suite's (2 workers, the stand-in Surya as its vlm tier),
    with the stand-in language model for chat, and webhooks allowed to 127.0.0.1."""
    data_dir = tmp_path_factory.mktemp("examples") / "data"
    alice, bob = make_accounts(Settings(data_dir=data_dir), "alice", "bob")
    surya = FakeSurya().start()
    try:
        with LiveServer(
            data_dir,
            extra_args=[
                *("--vlm-url", surya.url),
                *("--llm-url", model.llm.url, "--llm-model", "contract-model"),
                "--webhook-private-addresses",
            ],
        ) as server:
            yield Live(server=server, alice=alice, bob=bob)
    finally:
        surya.stop()


def environment(live: Live, **extra: str) -> dict[str, str]:
    env = {**os.environ, "OCRCHAT_BASE_URL": live.url, "OCRCHAT_API_TOKEN": live.alice}
    env.pop("OCRCHAT_TIER", None)  # the examples' own default: vlm
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def example(
    live: Live, command: list[str], cwd: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment(live, **extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run(live: Live, command: list[str], cwd: Path, **extra: str) -> str:
    finished = example(live, command, cwd, **extra)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def python(live: Live, script: str, *args: str, cwd: Path) -> str:
    """The SDK example ``script`` run with this interpreter (where ocrchat is installed)
    from ``cwd``, which is not its folder; returns what it printed."""
    return run(live, [sys.executable, str(EXAMPLES / script), *args], cwd)


def ground_truth(name: str) -> list[str]:
    return (ROOT / "tests" / "data" / f"{name}.gt.txt").read_text().splitlines()


def words_found(truth: list[str], text: str) -> float:
    """The share of the ground truth's words in ``text`` (as a bag: each as often as it
    is there), whatever the line breaks."""
    expected = Counter(" ".join(truth).split())
    found = expected & Counter(text.split())
    return sum(found.values()) / sum(expected.values())


def pdf_text(path: Path) -> list[str]:
    document = pypdfium2.PdfDocument(path)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


# The public service's examples


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    (tmp_path / "invoice.png").write_bytes(image_bytes(render_page([INVOICE]), "PNG"))
    (tmp_path / "report.pdf").write_bytes(numbered_pdf(7))
    return tmp_path


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: scripts/setup-debian --test installs it"
    return found


@pytest.mark.parametrize(
    ("document", "tier"), [("invoice.png", "vlm"), ("report.pdf", "vlm"), ("invoice.png", "cpu")]
)
def test_python_requests(live: Live, documents: Path, document: str, tier: str) -> None:
    command = [sys.executable, str(EXAMPLES / "python_requests.py"), document]
    printed = run(live, command, documents, **({"OCRCHAT_TIER": "cpu"} if tier == "cpu" else {}))
    expected = (
        INVOICE
        if document == "invoice.png"
        else [f"Page {n} of the quarterly report" for n in range(1, 8)]
    )
    for line in expected:
        assert line in printed
    word = docx.Document(str(documents / "result.docx"))
    text = "\n".join(paragraph.text for paragraph in word.paragraphs)
    assert expected[-1] in text


@pytest.mark.parametrize("document", ["invoice.png", "report.pdf"])
def test_node_fetch(live: Live, documents: Path, document: str) -> None:
    printed = run(live, [tool("node"), str(EXAMPLES / "node_fetch.mjs"), document], documents)
    assert ("INVOICE 2041" if document == "invoice.png" else "Page 7 of the quarterly") in printed


def test_curl(live: Live, documents: Path) -> None:
    tool("curl")
    printed = run(live, ["bash", str(EXAMPLES / "curl.sh"), "report.pdf"], documents)
    uuid, status = printed.split()
    assert status == "done"
    markdown = (documents / "result.md").read_text()
    assert "Page 7 of the quarterly report" in markdown
    assert docx.Document(str(documents / "result.docx")).core_properties.title == "report.pdf"
    assert str(uuid_module.UUID(uuid)) == uuid


def test_the_readme_first_job_reads_the_shipped_invoice(live: Live) -> None:
    """The README's first job, its curl command as written, run from the repository root
    (where ``examples/data/invoice.pdf`` is) against this server."""
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(r"^curl (?:.*\\\n)*.*$", readme, re.MULTILINE)
    command = command.replace("http://127.0.0.1:8000", live.url)
    printed = run(live, ["bash", "-c", f"set -eu; TOKEN={live.alice}; {command}"], ROOT)
    job = json.loads(printed)
    assert job["status"] == "done"
    assert job["filename"] == "invoice.pdf"
    assert "Invoice number: INV-2026-0142" in job["text"]


# The SDK's examples


def test_ocr_an_image(live: Live, tmp_path: Path) -> None:
    printed = python(live, "ocr_image.py", cwd=tmp_path)
    assert words_found(ground_truth(SCAN), printed) >= 0.9
    assert re.search(r"^--- 1 page\(s\), 2\d lines, mean confidence 9\d%$", printed, re.M)


def test_a_long_pdf_with_a_progress_bar(live: Live, tmp_path: Path) -> None:
    finished = example(live, [sys.executable, str(EXAMPLES / "long_pdf_progress.py")], tmp_path)
    assert finished.returncode == 0, finished.stderr
    # the bar, redrawn after each look, and full at the end
    bars = re.findall(r"annual_report\.pdf \[([#-]{30})\] (\d)/6 pages", finished.stderr)
    assert bars[-1] == ("#" * 30, "6")
    assert [int(done) for _, done in bars] == sorted(int(done) for _, done in bars)
    assert finished.stdout.startswith("6 pages read, Markdown written to annual_report.md\n")
    assert len(re.findall(r"^page \d: \d lines, confidence 9\d%$", finished.stdout, re.M)) == 6
    markdown = (tmp_path / "annual_report.md").read_text()
    for heading, _ in SAMPLES.REPORT:
        assert heading in markdown
    assert "Income was 812,000 euros" in markdown


def test_batch_a_folder(live: Live, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("invoice.pdf", "contract.pdf", "sales_table.png", f"{SCAN}.jpg"):
        shutil.copy(DATA / name, folder / name)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 not a PDF after all")
    (folder / "notes.md").write_text("not a document: left alone")
    command = [sys.executable, str(EXAMPLES / "batch_folder.py"), "inbox", "--concurrency", "2"]
    finished = example(live, command, tmp_path)
    # the broken file is reported, and the others are read all the same
    assert finished.returncode == 1, finished.stderr
    printed = finished.stdout
    assert re.search(r"^failed broken\.pdf: 400 \w+: .+$", printed, re.M)
    assert printed.endswith("4 of 5 documents read\n")
    out = tmp_path / "ocr-output"
    assert sorted(p.name for p in out.iterdir()) == [
        "contract.pdf.txt",
        f"{SCAN}.jpg.txt",
        "invoice.pdf.txt",
        "sales_table.png.txt",
    ]
    for name in ("invoice.pdf", "contract.pdf", "sales_table.png", f"{SCAN}.jpg"):
        assert re.search(rf"^done   {re.escape(name)}: \d page\(s\) in ", printed, re.M)
    assert "Invoice number: INV-2026-0142" in (out / "invoice.pdf.txt").read_text()
    assert "Either party may terminate" in (out / "contract.pdf.txt").read_text()
    assert "West" in (out / "sales_table.png.txt").read_text()
    assert words_found(ground_truth(SCAN), (out / f"{SCAN}.jpg.txt").read_text()) >= 0.9


def test_export_to_word(live: Live, tmp_path: Path) -> None:
    printed = python(live, "export_word.py", cwd=tmp_path)
    assert printed == f"1 page(s) read; Word document written to {SCAN}.docx\n"
    word = docx.Document(str(tmp_path / f"{SCAN}.docx"))
    assert word.core_properties.title == f"{SCAN}.jpg"
    text = "\n".join(paragraph.text for paragraph in word.paragraphs)
    assert words_found(ground_truth(SCAN), text) >= 0.9


def test_tables_to_a_spreadsheet(live: Live, tmp_path: Path) -> None:
    printed = python(live, "tables_to_excel.py", cwd=tmp_path)
    assert printed.startswith("1 table(s) found; workbook written to sales_table.xlsx\n")
    book = openpyxl.load_workbook(tmp_path / "sales_table.xlsx")
    assert book.sheetnames == ["Page 1 table 1"]
    rows = [list(row) for row in book["Page 1 table 1"].iter_rows(values_only=True)]
    assert rows == SAMPLES.SALES
    # pandas: the figures as numbers, each year's column summed
    totals = [sum(int(row[c]) for row in SAMPLES.SALES[1:]) for c in range(1, 5)]
    assert re.search(r"^Total\s+" + r"\s+".join(map(str, totals)) + "$", printed, re.M)


def test_the_invoice_line_items_to_a_spreadsheet(live: Live, tmp_path: Path) -> None:
    """A born-digital PDF: OCRed anyway (``ocr="force"``), as its text layer has no
    table structure."""
    printed = python(live, "tables_to_excel.py", str(DATA / "invoice.pdf"), cwd=tmp_path)
    assert printed.startswith("2 table(s) found; workbook written to invoice.xlsx\n")
    book = openpyxl.load_workbook(tmp_path / "invoice.xlsx")
    items = [list(row) for row in book["Page 1 table 1"].iter_rows(values_only=True)]
    assert items[0] == ["Description", "Qty", "Unit price", "Amount"]
    assert [row[:3] for row in items[1:]] == [
        [description, str(quantity), price] for description, quantity, price in SAMPLES.LINE_ITEMS
    ]
    assert re.search(r"^Total\s+16\s+\S+\s+491\.79$", printed, re.M)  # the subtotal


def test_chat_with_a_contract(live: Live, model: ContractModel, tmp_path: Path) -> None:
    model.clear()
    printed = python(live, "chat_with_contract.py", cwd=tmp_path)
    assert printed.startswith("contract.pdf: 3 pages read\n\nQ: How much notice is needed")
    pages = pdf_text(DATA / "contract.pdf")
    answers = re.findall(r"^A: The contract says: (.+)\n   p\. (\d): \1$", printed, re.M)
    assert len(answers) == 2, printed
    for line, page in answers:  # cited word for word, on the page the citation names
        assert line in pages[int(page) - 1]
    assert answers[0] == (
        "Either party may terminate this Agreement by giving 90 days written notice.",
        "2",
    )
    assert answers[1][0].startswith("The Client shall pay a monthly fee of EUR 4,500")
    # the model was asked each question, the follow-up with the first turn before it
    assert [request["model"] for request in model] == ["contract-model"] * 2
    assert model[0]["messages"][-1]["content"].endswith(
        "Question: How much notice is needed to terminate the agreement?"
    )
    assert model[1]["messages"][-1]["content"].endswith("Question: And what is the monthly fee?")
    assert f"The contract says: {answers[0][0]}" in [m["content"] for m in model[1]["messages"]]


def test_chat_says_clearly_when_the_model_fails(
    live: Live, model: ContractModel, tmp_path: Path
) -> None:
    model.failing = True
    try:
        command = [sys.executable, str(EXAMPLES / "chat_with_contract.py")]
        finished = example(live, command, tmp_path)
    finally:
        model.failing = False
    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    assert finished.stderr.startswith("The server could not answer (502 llm_error): ")
    assert "--llm-url" in finished.stderr
    assert "Request id: " in finished.stderr


class Lines:
    """The lines a running example prints, read as they come (by a thread), so that a test
    can wait for the next one."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)  # the end: the process closed its output

    def next(self, timeout: float = 60) -> str | None:
        """The next line printed (None once the process has ended and printed all)."""
        return self.lines.get(timeout=timeout)


def signed(secret: str, body: str, webhook_id: str) -> dict[str, str]:
    """The headers of a delivery of ``body`` signed with ``secret``, as the server signs."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(secret).sign(webhook_id, now, body),
        "content-type": "application/json",
    }


def test_a_webhook_receiver_submits_and_gets_its_delivery(live: Live, tmp_path: Path) -> None:
    printed = python(live, "webhook_receiver.py", "--port", "0", "--submit", cwd=tmp_path)
    listening, submitted, verified, *text = printed.splitlines()
    url = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+/hooks/ocr)", listening)
    assert url is not None
    match = re.fullmatch(r"submitted invoice\.pdf as (\S+); waiting for its delivery", submitted)
    assert match is not None
    uuid = match[1]
    assert verified == f"verified job.done for {uuid}: invoice.pdf, 1 page(s)"
    assert text == ["    INVOICE", f"    {SAMPLES.SELLER[0]}", f"    {SAMPLES.SELLER[1]}"]
    with ocrchat.Client(live.alice, base_url=live.url) as client:
        job = client.get(uuid)
    assert job.webhook is not None
    assert job.webhook.url == url[1]


def test_a_webhook_receiver_the_server_will_not_deliver_to(live: Live, tmp_path: Path) -> None:
    """A receiver URL the server refuses (here a host that does not resolve; on a server
    without ``--webhook-private-addresses``, any private one): said plainly, with what to
    do."""
    url = "http://receiver.invalid/hooks/ocr"
    command = [sys.executable, str(EXAMPLES / "webhook_receiver.py"), "--port", "0"]
    finished = example(live, [*command, "--url", url, "--submit"], tmp_path)
    assert finished.returncode == 1
    assert finished.stderr.startswith(f"The server will not deliver to {url}: ")
    assert "--webhook-private-addresses" in finished.stderr
    assert "Traceback" not in finished.stderr


def test_a_webhook_receiver_verifies_each_delivery(live: Live, tmp_path: Path) -> None:
    """The receiver as a service: it handles the delivery of a job submitted with its URL,
    refuses what is not signed with the account's key, handles a delivery once (a retry of
    it is answered and dropped), and stops cleanly on Ctrl-C."""
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "webhook_receiver.py"), "--port", "0"],
        cwd=tmp_path,
        env=environment(live),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = Lines(process)
        listening = re.fullmatch(
            r"listening on (http://127\.0\.0\.1:\d+/hooks/ocr)", lines.next() or ""
        )
        assert listening is not None
        url = listening[1]
        with ocrchat.Client(live.alice, base_url=live.url) as client:
            secret = client.account().webhook_secret
            assert secret is not None
            job = client.submit(DATA / "invoice.pdf", language="eng", webhook_url=url)
        handled = [f"verified job.done for {job.uuid}: invoice.pdf, 1 page(s)", "    INVOICE"]
        handled += [f"    {line}" for line in SAMPLES.SELLER]
        assert [lines.next() for _ in handled] == handled

        body = json.dumps({"type": "job.done", "data": {"uuid": job.uuid, "status": "done"}})
        # signed with another key, and not signed at all: refused
        other = "whsec_" + base64.b64encode(b"not the account's key").decode()
        for headers in (signed(other, body, "msg_1"), {}):
            answer = httpx.post(url, content=body, headers=headers)
            assert answer.status_code == http.HTTPStatus.BAD_REQUEST
            assert (lines.next() or "").startswith("refused a delivery: webhook not verified")
        # a delivery signed with the account's key is handled; the same again (a retry) is
        # answered, and dropped
        headers = signed(secret, body, "msg_2")
        assert httpx.post(url, content=body, headers=headers).status_code == 204
        assert [lines.next() for _ in handled] == handled
        assert httpx.post(url, content=body, headers=headers).status_code == 204
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        assert [lines.next(), lines.next()] == ["stopped", None]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_sample_documents_are_what_make_samples_makes(tmp_path: Path) -> None:
    """examples/data/make_samples.py remakes the committed samples: the same text in the
    born-digital PDFs, the same pixels in the scanned table, as many scanned pages."""
    subprocess.run(
        [sys.executable, str(DATA / "make_samples.py"), str(tmp_path)], check=True, timeout=60
    )
    for name in ("invoice.pdf", "contract.pdf"):
        assert pdf_text(tmp_path / name) == pdf_text(DATA / name)
    with (
        Image.open(tmp_path / "sales_table.png") as made,
        Image.open(DATA / "sales_table.png") as shipped,
    ):
        assert made.tobytes() == shipped.tobytes()
    assert len(pdf_text(tmp_path / "annual_report.pdf")) == len(SAMPLES.REPORT)
    assert len(pdf_text(DATA / "annual_report.pdf")) == len(SAMPLES.REPORT)
