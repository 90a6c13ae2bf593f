"""The documentation site (``mkdocs.yml``, ``docs/``) as a reader gets it.

The site builds with ``mkdocs build --strict`` (a broken link or anchor, a docstring
mkdocstrings cannot render, a generated page whose source fails: each fails the build).
Its generated pages say what the server itself does: the languages page lists the codes
the server's resolver accepts, the HTTP reference lists every route of the app, the
benchmarks page shows the figures of ``bench/results``. No page loads a script, a
stylesheet or an image from another site.

Shell and Python blocks marked runnable run, as a reader would run them, against a real
server, and their output is checked. The marker is an HTML comment on the line before
the block, which readers do not see::

    <!-- runnable expect='"status":"ok"' -->
    ```sh
    curl -s http://127.0.0.1:8000/healthz
    ```

Each ``expect='...'`` is a piece of text the output (stdout and stderr) must hold. A
block runs in a folder holding ``invoice.pdf`` (the file the quickstart uses), with the
package's commands first on ``PATH``, ``OCRCHAT_BASE_URL`` pointing at the test server,
``OCRCHAT_API_TOKEN`` and ``TOKEN`` set to an account's token, and the docs' server
address ``http://127.0.0.1:8000`` replaced by the test server's.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from ocrchat_server.engines.languages import NOT_LANGUAGES, installed_models, resolve_language
from ocrchat_server.http.openapi import openapi_document
from ocrchat_server.http.routes import routes
from ocrchat_server.jobs.service import DOWNLOAD_MEDIA_TYPES
from tests.conftest import Live
from tests.documents import text_pdf

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOCS_SERVER = "http://127.0.0.1:8000"
INVOICE = ["INVOICE", "Northwind Office Supplies Ltd.", "Total due (EUR) 604.90"]

_RUNNABLE = re.compile(
    r"^<!-- runnable(?P<expects>(?: expect='[^']*')*) -->\n"
    r"```(?P<language>sh|python)[^\n]*\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
_EXPECT = re.compile(r"expect='([^']*)'")
_MARKER = re.compile(r"<!-- runnable")


@attrs.frozen
class Block:
    """A runnable block of a page: what it runs and what its output must hold."""

    page: str
    line: int
    language: str
    code: str
    expects: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def runnable_blocks() -> list[Block]:
    blocks = []
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text()
        for match in _RUNNABLE.finditer(text):
            blocks.append(
                Block(
                    page=str(path.relative_to(DOCS)),
                    line=text.count("\n", 0, match.start()) + 1,
                    language=match["language"],
                    code=match["code"],
                    expects=tuple(_EXPECT.findall(match["expects"])),
                )
            )
    return blocks


BLOCKS = runnable_blocks()


def page_text(page: str) -> str:
    """A built page's article as plain text (what a reader sees)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built as ``nox -s docs`` builds it, into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, (
        "mkdocs build --strict failed (the test and docs dependency groups install "
        f"mkdocs):\n{built.stdout}\n{built.stderr}"
    )
    return out


def test_the_site_builds_with_every_page(site: Path) -> None:
    for page in DOCS.rglob("*.md"):
        relative = page.relative_to(DOCS).with_suffix("")
        built = site / "index.html" if relative.name == "index" else site / relative / "index.html"
        assert built.is_file(), f"{page} was not built"


def test_the_languages_page_lists_every_model_and_the_codes_the_server_takes(
    site: Path,
) -> None:
    page = (site / "languages" / "index.html").read_text()
    for model in installed_models() - NOT_LANGUAGES:
        assert f"<code>{model}</code>" in page, model
    codes = [("de", "deu"), ("deu", "deu"), ("german", "deu"), ("ch", "chi_sim"),
             ("chinese_cht", "chi_tra"), ("fa", "fas"), ("zh-tw", "chi_tra")]  # fmt: skip
    for code, model in codes:
        assert resolve_language(code).models == model
        assert f"<code>{code}</code>" in page, code
    assert "<code>osd</code>" not in page


def test_the_http_reference_lists_every_route_of_the_app(site: Path) -> None:
    text = page_text((site / "reference" / "http" / "index.html").read_text())
    for route in routes:
        for method in (route.methods or set()) - {"HEAD"}:
            assert f"{method} {route.path}" in text, f"{method} {route.path}"


def test_the_openapi_document_is_published_as_the_server_serves_it(site: Path) -> None:
    published = json.loads((site / "reference" / "openapi.json").read_text())
    assert published == openapi_document(tuple(DOWNLOAD_MEDIA_TYPES.items()))


def test_the_benchmarks_page_shows_the_latest_results(site: Path) -> None:
    text = page_text((site / "benchmarks" / "index.html").read_text())
    corpus = json.loads((ROOT / "bench" / "results" / "corpus.json").read_text())
    named = corpus["summary"]["named"]
    for kind in ("printed", "handwriting", "all"):
        assert f"{named[kind]['cer']:.3f}" in text, kind
    throughput = json.loads((ROOT / "bench" / "results" / "throughput.json").read_text())
    assert f"{throughput['command_line']['seconds']:.2f}" in text
    scaleout = json.loads((ROOT / "bench" / "results" / "scaleout.json").read_text())
    assert f"{scaleout['embedded']['2']['pages_per_second']:.2f}" in text


def _results(name: str) -> Any:
    return json.loads((ROOT / "bench" / "results" / f"{name}.json").read_text())


def test_the_pages_that_explain_the_benchmarks_quote_the_latest_figures(site: Path) -> None:
    """No page quotes a measured figure by hand: the engines, hardening, scaling and other
    pages get theirs from ``bench/results`` when the site is built, as the benchmarks
    page does."""

    def text(page: str) -> str:
        return page_text((site / page / "index.html").read_text())

    corpus, cpu = _results("corpus"), _results("cpu")
    binding = _results("throughput")["binding"]
    engines = text("engines")
    assert f"{binding['command_seconds']:.2f} s as a command" in engines
    assert f"{corpus['summary']['cli']['all_but_handwriting']['cer']:.3f}" in engines
    assert f"{corpus['confidence_against_error']['ppocr'][0]['mean_cer']:.3f}" in engines
    assert "de_hist_wecklein_1894_p87" in engines
    (run,) = [run for run in cpu["pdf_runs"] if run["pages"] == 300]
    worker = f"{run['largest_worker_peak_rss_mib']:,.0f} MiB"
    for page in ("engines", "self-hosting", "troubleshooting", "scaling"):
        assert worker in text(page), page
    assert f"{corpus['summary']['cli']['all']['cer']:.3f}" in text("languages")
    polls = _results("hostile_load")["pollers_of_a_500_page_job"]
    assert f"{polls['server_cpu_ms_per_poll']:.2f} ms of server CPU" in text("hardening")
    for built in site.rglob("*.html"):
        assert "<!-- figure:" not in built.read_text(), built


def test_a_figure_the_results_lack_fails_the_build() -> None:
    """A figure marker naming a key or a file that ``bench/results`` lacks, or written
    wrong, stops the build with an error that names it, instead of an empty spot."""
    from mkdocs.exceptions import PluginError

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec
    assert spec.loader
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert hooks.figure("corpus", "summary.named.all.cer", ".3f") == (
        f"{_results('corpus')['summary']['named']['all']['cer']:.3f}"
    )
    with pytest.raises(PluginError, match=r"corpus\.json has no 'summary\.named\.nope\.cer'"):
        hooks.figure("corpus", "summary.named.nope.cer")
    with pytest.raises(PluginError, match="cannot read"):
        hooks.figure("no_such_bench", "figure")
    with pytest.raises(PluginError, match="no 'pages=7'"):
        hooks.figure("cpu", "pdf_runs.pages=7.seconds")
    page = type("Page", (), {"file": type("File", (), {"src_uri": "engines.md"})()})()
    with pytest.raises(PluginError, match=r"engines\.md: not a figure marker"):
        hooks.on_page_markdown("<!-- figure: corpus summary-->", page, None, None)


_ELSEWHERE = r"[\"']?(?:https?:)?//"
_LOADS = [
    re.compile(rf"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc={_ELSEWHERE}", re.I),
    re.compile(rf"@import\s+(?:url\()?{_ELSEWHERE}", re.IGNORECASE),
    re.compile(rf"url\(\s*{_ELSEWHERE}", re.IGNORECASE),
]
_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_LOADED_LINKS = re.compile(
    r"\brel=[\"']?[^\"'>]*\b(?:stylesheet|preload|modulepreload|icon|manifest)"
)


def test_no_page_loads_anything_from_another_site(site: Path) -> None:
    """Scripts, stylesheets, fonts and images all come from the site itself: it works
    offline, and a reader's browser asks no other site for anything. (Links a reader may
    follow to other sites are fine.)"""
    checked = 0
    for path in site.rglob("*"):
        if path.suffix not in {".html", ".css", ".js"}:
            continue
        checked += 1
        text = path.read_text(errors="replace")
        if path.suffix == ".js":
            # a bundled script may mention URLs; what it must not do is import from one
            assert not re.search(rf"\bimport\s*\(?\s*{_ELSEWHERE}", text), path
            continue
        for pattern in _LOADS:
            found = pattern.search(text)
            assert found is None, f"{path.relative_to(site)} loads {found and found[0]!r}"
        for link in _LINK.findall(text):
            loaded = _LOADED_LINKS.search(link) and re.search(rf"\bhref={_ELSEWHERE}", link)
            assert not loaded, f"{path.relative_to(site)} loads {link!r}"
    assert checked > 20


def test_the_docs_mark_the_commands_a_newcomer_runs_first() -> None:
    """The quickstart's health check, engines, a CLI submit and a curl submit are marked
    runnable, and every marker is on a block that the test can run."""
    markers = sum(len(_MARKER.findall(path.read_text())) for path in DOCS.rglob("*.md"))
    assert markers == len(BLOCKS), "a runnable marker is not right before a sh or python block"
    code = "\n".join(block.code for block in BLOCKS)
    for command in ["/healthz", "ocrchat engines", "ocrchat submit invoice.pdf --wait",
                    '-F "file=@invoice.pdf"']:  # fmt: skip
        assert command in code, command
    for block in BLOCKS:
        assert block.expects, f"{block.id}: say what its output holds (expect='...')"


def test_every_python_block_is_python() -> None:
    """The Python a reader copies from any page parses (the runnable ones also run)."""
    fence = re.compile(r"^```python[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
    for path in sorted(DOCS.rglob("*.md")):
        text = path.read_text()
        for match in fence.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            try:
                ast.parse(match[1])
            except SyntaxError as error:
                pytest.fail(f"{path.relative_to(DOCS)}:{line}: {error}")


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_a_runnable_block_runs_as_written(live: Live, tmp_path: Path, block: Block) -> None:
    (tmp_path / "invoice.pdf").write_bytes(text_pdf([INVOICE]))
    code = block.code.replace(DOCS_SERVER, live.url)
    command = (
        ["bash", "-euo", "pipefail", "-c", code]
        if block.language == "sh"
        else [sys.executable, "-c", code]
    )
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "OCRCHAT_BASE_URL": live.url,
        "OCRCHAT_API_TOKEN": live.alice,
        "TOKEN": live.alice,
    }
    ran = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, f"{block.id} exited {ran.returncode}:\n{output}"
    for expected in block.expects:
        assert expected in output, f"{block.id}: {expected!r} not in its output:\n{output}"
