"""MkDocs hooks: the pages' generated parts, made from the project itself at build time.

A page asks for one with a line ``<!-- generated: NAME -->``; the hook puts the Markdown
in its place:

- ``openapi``: the HTTP endpoints and their schemas, from the OpenAPI document the server
  publishes at ``GET /api/v1/openapi.json`` (the same function builds both). The document
  itself is published beside the page as ``reference/openapi.json``.
- ``languages`` and ``scripts``: every language and script model this machine's Tesseract
  has, with the codes the server accepts for each, found by the server's own resolver.
- ``benchmarks``: the latest figures of ``bench/results/*.json``; ``bench-corpus``,
  ``bench-corpus-cases``, ``bench-confidence``, ``bench-throughput``, ``bench-polling``,
  ``bench-searchable-pdf`` and ``bench-hostile-load``: tables of the same files for the
  pages that explain them.

A single measured figure in a sentence is written ``<!-- figure: FILE PATH -->`` (or
``<!-- figure: FILE PATH:SPEC -->``, SPEC a Python format spec such as ``.3f``): the value
at PATH in ``bench/results/FILE.json``, its keys joined by dots. In a list, a number picks
an item by position and ``KEY=VALUE`` the first item whose KEY is VALUE
(``<!-- figure: cpu pdf_runs.pages=300.largest_worker_peak_rss_mib:,.0f -->``). No page
quotes a benchmark's figure by hand, so none can go stale; a file or key that is missing
fails the build.

It also turns the Sphinx roles of the SDK's docstrings (``:class:`Job```) into plain code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from ocrchat import models

if TYPE_CHECKING:
    from collections.abc import Callable

    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.livereload import LiveReloadServer
    from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OPENAPI_FILE = "reference/openapi.json"
_MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
_FIGURE = re.compile(r"<!-- figure: ([a-z_]+) ([\w.=, -]+?)(?::([^ ]*))? -->")
_ROLE = re.compile(r":(?:class|meth|func|data|mod|attr|exc|obj):<code>(~?)([^<]*)</code>")

Json = dict[str, Any]


# --- MkDocs events ------------------------------------------------------------------------


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Publish the OpenAPI document beside its page, so it can be downloaded."""
    text = json.dumps(openapi(), indent=2, ensure_ascii=False) + "\n"
    files.append(File.generated(config, OPENAPI_FILE, content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each ``<!-- generated: NAME -->`` line with what it names, and each
    ``<!-- figure: FILE PATH -->`` with that figure of the latest benchmarks."""

    def generated(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise PluginError(f"{page.file.src_uri}: no generator named {name!r}")
        return GENERATORS[name]()

    def quoted(match: re.Match[str]) -> str:
        try:
            return figure(*match.groups())
        except PluginError as error:
            raise PluginError(f"{page.file.src_uri}: {error}") from error

    markdown = _FIGURE.sub(quoted, _MARKER.sub(generated, markdown))
    if "<!-- figure:" in markdown:
        line = markdown[markdown.index("<!-- figure:") :].split("\n", 1)[0]
        raise PluginError(f"{page.file.src_uri}: not a figure marker: {line!r}")
    return markdown


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """``:class:`~ocrchat.Job``` in a docstring reads as ``Job``."""

    def plain(match: re.Match[str]) -> str:
        short, name = match.groups()
        return f"<code>{name.rsplit('.', 1)[-1] if short else name}</code>"

    return _ROLE.sub(plain, html)


def on_serve(server: LiveReloadServer, config: MkDocsConfig, builder: Callable[..., Any]) -> None:
    """``mkdocs serve`` rebuilds when the figures or the server's tables change."""
    server.watch(str(RESULTS))
    server.watch(str(ROOT / "src"))


# --- the OpenAPI document -------------------------------------------------------------------


def openapi() -> Json:
    """The document exactly as ``GET /api/v1/openapi.json`` serves it."""
    from ocrchat_server.http.openapi import openapi_document
    from ocrchat_server.jobs.service import DOWNLOAD_MEDIA_TYPES

    return openapi_document(tuple(DOWNLOAD_MEDIA_TYPES.items()))


_METHODS = ("get", "post", "put", "patch", "delete")


def _anchor(name: str) -> str:
    return "schema-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def schema_type(schema: Json) -> str:
    """A schema in a few words, a model as a link to its table below."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in schema:
        return " or ".join(schema_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array" and "prefixItems" in schema:
        return "[" + ", ".join(schema_type(item) for item in schema["prefixItems"]) + "]"
    if kind == "array":
        return "list of " + schema_type(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        values = schema["additionalProperties"]
        return "object of " + (schema_type(values) if values else "any values")
    if kind is None:
        return "any JSON"
    text = str(kind)
    if "format" in schema:
        text += f" ({schema['format']})"
    return text


def _limits(schema: Json) -> str:
    notes = []
    if "minimum" in schema and "maximum" in schema:
        notes.append(f"{schema['minimum']} to {schema['maximum']}")
    if "minLength" in schema and "maxLength" in schema:
        notes.append(f"{schema['minLength']} to {schema['maxLength']} characters")
    elif "maxLength" in schema:
        notes.append(f"at most {schema['maxLength']} characters")
    if "default" in schema:
        notes.append(f"default `{schema['default']}`")
    return "; ".join(notes)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _auth(operation: Json, document: Json) -> str:
    if operation.get("security", document.get("security")) == []:
        return "No token needed."
    return "Token: `Authorization: Bearer <token>`, or `?api_token=<token>`."


def _parameters(parameters: list[Json]) -> list[str]:
    if not parameters:
        return []
    rows = ["| parameter | in | type | required | notes |", "| --- | --- | --- | --- | --- |"]
    for parameter in parameters:
        schema = parameter.get("schema", {})
        notes = "; ".join(
            part for part in (parameter.get("description", ""), _limits(schema)) if part
        )
        rows.append(
            f"| `{parameter['name']}` | {parameter['in']} | {_cell(schema_type(schema))} | "
            f"{'yes' if parameter.get('required') else 'no'} | {_cell(notes)} |"
        )
    return ["**Parameters**", "", *rows, ""]


def _request_body(body: Json | None) -> list[str]:
    if not body:
        return []
    lines: list[str] = []
    for media, content in body.get("content", {}).items():
        schema = content.get("schema", {})
        required = set(schema.get("required", []))
        lines += [f"**Request body** (`{media}`)", ""]
        lines += ["| field | type | required | notes |", "| --- | --- | --- | --- |"]
        for name, field in schema.get("properties", {}).items():
            notes = "; ".join(
                part for part in (field.get("description", ""), _limits(field)) if part
            )
            lines.append(
                f"| `{name}` | {_cell(schema_type(field))} | "
                f"{'yes' if name in required else 'no'} | {_cell(notes)} |"
            )
        if schema.get("additionalProperties") is False:
            lines.append("")
            lines.append("No other field is accepted.")
        lines.append("")
    return lines


def _responses(responses: Json) -> list[str]:
    rows = ["**Responses**", "", "| status | body | meaning |", "| --- | --- | --- |"]
    for status, response in responses.items():
        contents = response.get("content", {})
        bodies = []
        for media, content in contents.items():
            schema = content.get("schema", {})
            if schema.get("format") == "binary":
                bodies.append(f"`{media}`")
            else:
                bodies.append(schema_type(schema))
        body = ", ".join(dict.fromkeys(bodies)) or "none"
        rows.append(f"| {status} | {_cell(body)} | {_cell(response.get('description', ''))} |")
    return [*rows, ""]


def render_openapi(document: Json) -> str:
    """Every operation (a heading ``METHOD /path``), then every schema as a table."""
    lines: list[str] = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            lines += [
                f"### `{method.upper()} {path}` {{ #{operation['operationId']} }}",
                "",
                operation.get("summary", ""),
                "",
                _auth(operation, document),
                "",
                *_parameters([*shared, *operation.get("parameters", [])]),
                *_request_body(operation.get("requestBody")),
                *_responses(operation.get("responses", {})),
            ]
    lines += [
        "## Schemas",
        "",
        "A field that is not required may be missing from another server's answer; "
        "ocrchat-server sends every field of a job, `null` while it has no value.",
        "",
    ]
    for name, schema in document["components"]["schemas"].items():
        lines += [f"### {name} {{ #{_anchor(name)} }}", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        if hasattr(models, name):  # the SDK's model of the same name documents each field
            lines += [
                f"Each field is described in the SDK's [`{name}`][ocrchat.models.{name}].",
                "",
            ]
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        if properties:
            lines += ["| field | type | required |", "| --- | --- | --- |"]
            for field, field_schema in properties.items():
                lines.append(
                    f"| `{field}` | {_cell(schema_type(field_schema))} | "
                    f"{'yes' if field in required else 'no'} |"
                )
            lines.append("")
        if schema.get("additionalProperties") is True:
            lines += [
                "Other fields come with some codes: [Errors](../errors.md) lists them.",
                "",
            ]
    return "\n".join(lines)


# --- languages ------------------------------------------------------------------------------

_NAMES = {"chi": "Chinese", "frk": "German (Fraktur)", "enm": "Middle English"}
_VARIANTS = {
    "sim": "Simplified",
    "tra": "Traditional",
    "vert": "vertical",
    "cyrl": "Cyrillic script",
    "latn": "Latin script",
    "old": "historic",
}
_SCRIPT_NAMES = {
    "HanS": "Han, Simplified",
    "HanT": "Han, Traditional",
    "Canadian_Aboriginal": "Canadian Aboriginal syllabics",
}


def _language_name(model: str) -> str:
    import pycountry

    base, *variants = model.split("_")
    name = _NAMES.get(base)
    if name is None:
        language = pycountry.languages.get(alpha_3=base)
        name = language.name if language is not None else base
        name = re.sub(r" \((macrolanguage|\d.*)\)$", "", name)
    if variants:
        name += " (" + ", ".join(_VARIANTS.get(variant, variant) for variant in variants) + ")"
    return name


def _codes_by_model() -> tuple[list[str], dict[str, list[str]]]:
    """The installed models, and for each the short codes the server resolves to it."""
    import pycountry

    from ocrchat_server.engines.languages import (
        ALIASES,
        NOT_LANGUAGES,
        UnknownLanguageError,
        installed_models,
        resolve_language,
    )

    try:
        installed = installed_models()
    except (OSError, ValueError) as error:  # no tesseract command
        raise PluginError(
            "the languages page lists this machine's Tesseract models: install "
            f"tesseract-ocr-all (scripts/setup-debian does) ({error})"
        ) from error
    models = sorted(installed - NOT_LANGUAGES, key=str.lower)
    codes: dict[str, list[str]] = {model: [] for model in models}
    iso = {language.alpha_2 for language in pycountry.languages if hasattr(language, "alpha_2")}
    for code in sorted(iso | set(ALIASES)):
        try:
            choice = resolve_language(code, installed)
        except UnknownLanguageError:
            continue
        if choice.models in codes and choice.models != code:
            codes[choice.models].append(code)
    return models, codes


def _auto_models() -> frozenset[str]:
    """The models of the languages ``language=auto`` can name (lingua's, installed)."""
    from lingua import Language

    from ocrchat_server.engines.detection import _tesseract_model

    return frozenset(_tesseract_model(language) for language in Language.all())


def render_languages() -> str:
    from ocrchat_server.engines.scripts import GREEK_MODELS, PPOCR_MODELS

    models, codes = _codes_by_model()
    auto = _auto_models()
    rows = [
        "| language | Tesseract model | other codes for it | read by (`engine=auto`) "
        "| found by `auto` |",
        "| --- | --- | --- | --- | --- |",
    ]
    languages = [model for model in models if model[0].islower()]
    for model in sorted(languages, key=_language_name):
        reader = "PP-OCRv6" if model in PPOCR_MODELS else "Tesseract"
        other = ", ".join(f"`{code}`" for code in codes[model]) or ""
        rows.append(
            f"| {_language_name(model)} | `{model}` | {other} | {reader} | "
            f"{'yes' if model in auto else ''} |"
        )
    greek = ", ".join(f"`{model}`" for model in GREEK_MODELS if model in languages)
    return (
        f"{len(languages)} languages. Send the model name or any of the other codes; "
        "codes are not case-sensitive.\n\n"
        + "\n".join(rows)
        + f"\n\nGreek ({greek}) named with languages PP-OCRv6 reads (`eng+grc`): "
        "PP-OCRv6 reads the page and Tesseract its Greek lines.\n"
    )


def render_scripts() -> str:
    from ocrchat_server.engines.scripts import PPOCR_MODELS

    models, codes = _codes_by_model()
    scripts = [model for model in models if model[0].isupper()]
    rows = ["| script | model | other codes for it | read by (`engine=auto`) |"]
    rows.append("| --- | --- | --- | --- |")
    for model in scripts:
        base = model.removesuffix("_vert")
        name = _SCRIPT_NAMES.get(base, base.replace("_", " "))
        if model.endswith("_vert"):
            name += " (vertical)"
        other = ", ".join(f"`{code}`" for code in [f"script/{model}", *codes[model]])
        reader = "PP-OCRv6" if model in PPOCR_MODELS else "Tesseract"
        rows.append(f"| {name} | `{model}` | {other} | {reader} |")
    return f"{len(scripts)} script models.\n\n" + "\n".join(rows) + "\n"


# --- benchmarks -----------------------------------------------------------------------------


class _Figures(dict[str, Any]):
    """A JSON object of a results file: a key the docs read and the file lacks fails the
    build with the file's name, not with a bare ``KeyError``."""

    def __init__(self, items: dict[str, Any], source: str) -> None:
        super().__init__(items)
        self.source = source

    def __missing__(self, key: str) -> Any:
        raise PluginError(f"benchmarks: {self.source} has no {key!r}")


def _result(name: str) -> Json:
    path = RESULTS / f"{name}.json"
    source = f"bench/results/{name}.json"
    try:
        data: Json = json.loads(path.read_text(), object_hook=lambda items: _Figures(items, source))
    except (OSError, ValueError) as error:
        raise PluginError(f"benchmarks: cannot read {path}: {error}") from error
    return data


def figure(name: str, path: str, spec: str | None = None) -> str:
    """The figure at ``path`` (keys joined by dots) of ``bench/results/NAME.json``, formatted
    by ``spec`` (a Python format spec) or as the Benchmarks page writes numbers."""
    value: Any = _result(name)
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        elif isinstance(value, list) and "=" in step:
            key, wanted = step.split("=", 1)
            found = [
                item for item in value if isinstance(item, dict) and str(item.get(key)) == wanted
            ]
            if not found:
                raise PluginError(f"benchmarks: bench/results/{name}.json: no {step!r} in {path!r}")
            value = found[0]
        else:
            raise PluginError(f"benchmarks: bench/results/{name}.json has no {path!r} ({step!r})")
    if isinstance(value, (dict, list)) or value is None:
        raise PluginError(f"benchmarks: bench/results/{name}.json: {path!r} is not a figure")
    if not spec:
        return _number(value)
    try:
        return format(value, spec)
    except ValueError as error:
        raise PluginError(f"benchmarks: {path!r}: bad format {spec!r}: {error}") from error


def _machine(data: Json) -> str:
    machine = data.get("machine")
    if isinstance(machine, dict):
        cores = machine.get("cores", machine.get("cpus"))
        parts = [f"{cores} cores" if cores else ""]
        parts += [str(machine[key]) for key in ("tesseract",) if key in machine]
        machine = ", ".join(part for part in parts if part)
    when = data.get("when")
    return f"Measured on {machine}" + (f", {when[:10]}" if when else "") + "."


def _number(value: Any, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


_KINDS = (
    "printed",
    "table",
    "historic",
    "multicolumn",
    "all_but_handwriting",
    "handwriting",
    "all",
)


def _pages_by_kind(data: Json) -> dict[str, int]:
    """How many pages each kind (and the two groups of kinds) has, from the named run."""
    pages: dict[str, int] = {}
    for case in data.get("cases", {}).get("named", []):
        pages[case["kind"]] = pages.get(case["kind"], 0) + case["pages"]
    if pages:
        pages["all"] = sum(pages.values())
        pages["all_but_handwriting"] = pages["all"] - pages.get("handwriting", 0)
    return pages


def _corpus_table(data: Json) -> list[str]:
    """CER per kind of page, four ways, with BoW-F1 and seconds a page."""
    summary = data["summary"]
    ratios = data.get("cer_against_tesseract_cli", {}).get("named", {})
    pages = _pages_by_kind(data)
    lines = [
        "| kind (pages) | `tesseract` command | server, `engine=tesseract` "
        "| server, language named "
        "| server, `language=auto` | named against command | BoW-F1 command / server "
        "| seconds a page, command / server |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for kind in _KINDS:
        if kind not in summary["named"]:
            continue
        named, cli = summary["named"][kind], summary["cli"][kind]
        count = f" ({pages[kind]})" if kind in pages else ""
        ratio = f"{_number(ratios[kind])}x" if kind in ratios else ""
        lines.append(
            f"| {kind.replace('_', ' ')}{count} | {_number(cli['cer'], 3)} | "
            f"{_number(summary['tesseract'][kind]['cer'], 3)} | {_number(named['cer'], 3)} | "
            f"{_number(summary['auto'][kind]['cer'], 3)} | {ratio} | "
            f"{_number(cli['bow_f1'])} / {_number(named['bow_f1'])} | "
            f"{_number(cli['seconds_per_page'])} / {_number(named['seconds_per_page'])} |"
        )
    return lines


def _case_cer(row: Json) -> float:
    return float(row["char_edits"]) / max(int(row["ref_chars"]), 1)


def _corpus_cases(data: Json) -> list[str]:
    """CER per case: the command, the server with the language named and with ``auto``."""
    cases = data["cases"]
    cli = {row["case"]: row for row in cases["cli"]}
    auto = {row["case"]: row for row in cases["auto"]}
    lines = [
        "| case | kind | pages | `tesseract` command | server, language named "
        "| server, `language=auto` | read by |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    better = 0
    for row in cases["named"]:
        command = _case_cer(cli[row["case"]])
        better += _case_cer(row) < command
        engines = ", ".join(f"`{engine}`" for engine in dict.fromkeys(row.get("engines", [])))
        lines.append(
            f"| `{row['case']}` | {row['kind']} | {row['pages']} | {_number(command, 3)} | "
            f"{_number(_case_cer(row), 3)} | {_number(_case_cer(auto[row['case']]), 3)} | "
            f"{engines} |"
        )
    return [
        *lines,
        "",
        f"With the language named, {better} of the {len(cases['named'])} cases are read "
        "better than by the command.",
    ]


def _confidence_table(data: Json) -> list[str]:
    """Mean CER of the blocks in each band of confidence, per engine."""
    engines = {"ppocr": "PP-OCRv6", "tesseract": "Tesseract"}
    measured = data["confidence_against_error"]
    by_band = {
        engine: {band["confidence"]: band for band in measured.get(engine, [])}
        for engine in engines
    }
    bands = sorted({band for rows in by_band.values() for band in rows}, reverse=True)
    lines = [
        "| confidence | "
        + " | ".join(f"{name} lines | mean CER" for name in engines.values())
        + " |",
        "| --- | " + " | ".join("---: | ---:" for _ in engines) + " |",
    ]
    for band in bands:
        cells = []
        for engine in engines:
            row = by_band[engine].get(band)
            cells += [_number(row["blocks"]), _number(row["mean_cer"], 3)] if row else ["", ""]
        lines.append(f"| {band.replace('-', ' to ')} | " + " | ".join(cells) + " |")
    return lines


def _corpus() -> list[str]:
    data = _result("corpus")
    lines = [
        "### OCR quality on the development corpus",
        "",
        "Every page of the development corpus (real scans with third-party ground truth) "
        "through the server, against the plain `tesseract IMAGE - -l LANG` command in the "
        "same run. CER is the micro character error rate (lower is better), BoW-F1 the "
        "bag-of-words F1 (higher is better). "
        + _machine(data)
        + " From `bench/corpus_quality.py`; per case: "
        "[The cpu tier's engines](engines.md#per-case).",
        "",
        *_corpus_table(data),
    ]
    text_layer = data.get("text_layer_pdf")
    if text_layer:
        lines += [
            "",
            f"A {text_layer['pages']}-page born-digital PDF, read from its own text layer: "
            f"{_number(text_layer['server_seconds'])} s from upload to done "
            f"({_number(text_layer['pages_per_second'], 0)} pages a second).",
        ]
    return [*lines, ""]


_THROUGHPUT_RUNS = {
    "engine=tesseract, language=named": "server, `engine=tesseract`, language named",
    "engine=tesseract, language=auto": "server, `engine=tesseract`, `language=auto`",
    "engine=auto, language=named": "server, default engine, language named",
    "engine=auto, language=auto": "server, default engine, `language=auto`",
}


def _throughput_table(data: Json) -> list[str]:
    command = data["command_line"]
    lines = [
        "| run | seconds | pages a second | against the command |",
        "| --- | ---: | ---: | ---: |",
        f"| `xargs tesseract` | {_number(command['seconds'])} | "
        f"{_number(command['pages_per_second'])} | 1.00x |",
    ]
    for run, figures in data["server"].items():
        named = figures.get("time_against_named")
        lines.append(
            f"| {_THROUGHPUT_RUNS.get(run, f'server, {run}')} | {_number(figures['seconds'])} | "
            f"{_number(figures['pages_per_second'])} | {_number(figures['against_command'])}x"
            + (f" ({_number(named)}x the named time)" if named else "")
            + " |"
        )
    return lines


def _throughput() -> list[str]:
    data = _result("throughput")
    lines = [
        "### Throughput against `xargs tesseract`",
        "",
        f"{data['pages']} dense scans posted at once to a server with a worker per core, "
        "against `xargs -P cores tesseract` on the same files"
        + (f", each the median of {data['repeats']} rounds. " if data.get("repeats") else ". ")
        + _machine(data)
        + " From `bench/throughput.py`.",
        "",
        *_throughput_table(data),
    ]
    binding = data.get("binding")
    if binding:
        lines += [
            "",
            f"The {binding['pages']} scans read once each in one process on one thread: "
            f"{_number(binding['command_seconds'])} s through the `tesseract` command"
            + (f" (Tesseract {binding['command']})" if binding.get("command") else "")
            + f", {_number(binding['library_seconds'])} s through the kept-loaded library "
            f"({binding['library']}); " + _binding_words(binding),
        ]
    return [*lines, ""]


def _binding_words(binding: Json) -> str:
    """How many of the command's words the library read the same (older results: whether
    all were)."""
    share = binding.get("same_words_share")
    if share is not None:
        return f"{share:.1%} of the command's words read the same."
    return "the same words." if binding.get("same_words") else "**not** the same words."


def _searchable_pdf_table(data: Json) -> list[str]:
    names = {
        "tesseract_cli": "`pdfimages` + `xargs tesseract` (text only, no PDF)",
        "ocrmypdf": "`ocrmypdf`",
        "server_default": "server, default engine",
        "server_tesseract": "server, `engine=tesseract`",
    }
    lines = [
        "| run | seconds | output / input size | text-layer CER |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, figures in data["results"].items():
        size = figures.get("size_ratio")
        against = figures.get("time_against_ocrmypdf")
        lines.append(
            f"| {names.get(key, key)} | {_number(figures['seconds'])}"
            + (f" ({_number(against)}x ocrmypdf)" if against else "")
            + f" | {_number(size) + 'x' if size else ''} | "
            f"{_number(figures.get('text_layer_cer'), 3)} |"
        )
    return lines


def _searchable_pdf() -> list[str]:
    data = _result("searchable_pdf")
    lines = [
        "### A scanned PDF made searchable",
        "",
        f"A {data['pages']}-page scanned PDF made searchable; CER of the text layer as "
        "`pdftotext` reads it. " + _machine(data) + " From `bench/searchable_pdf.py`.",
        "",
        *_searchable_pdf_table(data),
    ]
    inline = data.get("inline_one_page_seconds")
    if inline:
        lines += [
            "",
            "One page answered in its request, end to end over HTTP: "
            f"{_number(inline['server_tesseract'])} s with `engine=tesseract` and "
            f"{_number(inline['server_auto'])} s with the default engine, against "
            f"{_number(inline['tesseract_command'])} s for one `tesseract` run.",
        ]
    return [*lines, ""]


def _cpu() -> list[str]:
    data = _result("cpu")
    lines = [
        "### Long PDFs: speed and memory",
        "",
        "Whole PDFs through the server, default engine. "
        + _machine(data)
        + " From `bench/cpu_tier.py`.",
        "",
        "| pages | language | workers | seconds | pages a second | server peak MiB "
        "| largest worker peak MiB | all processes MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in data["pdf_runs"]:
        lines.append(
            f"| {run['pages']} | `{run['language']}` | {run['workers']} | "
            f"{_number(run['seconds'])} | {_number(run['pages_per_second'])} | "
            f"{_number(run['server_peak_rss_mib'], 0)} | "
            f"{_number(run['largest_worker_peak_rss_mib'], 0)} | "
            f"{_number(run['server_and_workers_peak_rss_mib'], 0)} |"
        )
    growth = data.get("memory_growth")
    if growth:
        first, last = growth["pages"][0], growth["pages"][-1]
        lines += [
            "",
            f"From {first} to {last} pages, the server and its workers together grew by "
            f"{_number(growth['server_and_workers_peak_rss_growth_mib'], 0)} MiB.",
        ]
    threading = data.get("tesseract_threading")
    if threading:
        lines += [
            "",
            "Two pages read at once by the `tesseract` command: "
            f"{_number(threading['default_threads_seconds_for_2_pages'])} s with OpenMP's "
            f"threads, {_number(threading['omp_thread_limit_1_seconds_for_2_pages'])} s with "
            "`OMP_THREAD_LIMIT=1` (what the workers set).",
        ]
    return [*lines, ""]


def _latency_row(name: str, figures: Json) -> str:
    return (
        f"| {name} | {_number(figures.get('polls_per_second'), 0)} | "
        f"{_number(figures['p50_ms'], 0)} | {_number(figures['p95_ms'], 0)} | "
        f"{_number(figures['p99_ms'], 0)} | {_number(figures['max_ms'], 0)} |"
    )


def _polling_table(data: Json) -> list[str]:
    return [
        "| run | polls a second | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _latency_row("quiet", data["quiet"]),
        _latency_row(f"while uploading ({data['busy'].get('uploads', '')} uploads)", data["busy"]),
    ]


def _polling() -> list[str]:
    data = _result("polling")
    return [
        "### Polling while PDFs are uploaded",
        "",
        f"{data['clients']} clients poll one job for {_number(data['seconds_each'], 0)} s, "
        "first with nothing else running, then while another client uploads a 10-page "
        "scanned PDF again and again. " + _machine(data) + " From `bench/polling.py`.",
        "",
        *_polling_table(data),
        "",
    ]


def _hostile_load_table(data: Json) -> list[str]:
    submit = data["submitters"]
    polls = data["pollers_of_a_500_page_job"]
    slow = data["slow_connections"]
    return [
        "| run | figures |",
        "| --- | --- |",
        f"| {submit['clients']} clients each POST a one-page PDF at once | "
        f"{submit['errors']} errors, {submit['not_done_when_answered']} answers not yet "
        f"`done`, all answered in {_number(submit['wall_s'])} s "
        f"(p50 {_number(submit['latency']['p50_ms'] / 1000)} s, "
        f"max {_number(submit['latency']['max_ms'] / 1000)} s) |",
        f"| {polls['clients']} clients poll a done {polls['job_pages']}-page job "
        f"({polls['body_kb']} KB of JSON) for {_number(polls['seconds'], 0)} s | "
        f"{_number(polls['requests_per_s'], 0)} polls a second "
        f"(p50 {_number(polls['latency']['p50_ms'] / 1000)} s), "
        f"{_number(polls['server_cpu_ms_per_poll'])} ms of server CPU a poll; "
        f"`/healthz` meanwhile p50 {_number(polls['healthz_latency']['p50_ms'], 1)} ms, "
        f"max {_number(polls['healthz_latency']['max_ms'], 1)} ms |",
        f"| {slow['connections']:,} connections sending a request head a line at a time | "
        f"{slow['closed_by_the_server_within_timeout_plus_5_s']:,} closed by the server "
        f"(`--header-timeout` {_number(slow['header_timeout_s'], 0)} s); `/healthz` "
        f"meanwhile at most {_number(slow['healthz_latency_meanwhile']['max_ms'], 1)} ms; "
        f"the server held {_number(slow['server_open_files_with_them'])} open files |",
    ]


def _hostile_load() -> list[str]:
    data = _result("hostile_load")
    return [
        "### Load and slow clients",
        "",
        _machine(data) + " From `bench/hostile_load.py`; the load generator shares the "
        "server's cores.",
        "",
        *_hostile_load_table(data),
        "",
    ]


def _series(items: list[Any]) -> str:
    words = [str(item) for item in items]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _scaleout() -> list[str]:
    data = _result("scaleout")
    lines = [
        "### Scaling out",
        "",
        f"{data['document']}, read with {_series(data['workers'])} worker processes, in the "
        "embedded mode and in the scale-out mode (PostgreSQL and Redis). "
        + _machine(data)
        + " From `bench/scaleout.py`."
        + (
            f" On {cores} cores, more than {cores} workers cannot go faster."
            if (cores := data.get("machine", {}).get("cores"))
            else ""
        ),
        "",
        "| workers | embedded: pages a second | scale-out: pages a second |",
        "| ---: | ---: | ---: |",
    ]
    for workers in data["workers"]:
        key = str(workers)
        lines.append(
            f"| {workers} | {_number(data['embedded'][key]['pages_per_second'])} | "
            f"{_number(data['scale_out'][key]['pages_per_second'])} |"
        )
    return [*lines, ""]


def _web_app() -> list[str]:
    data = _result("web_app")
    page, image, browser = data["job_page"], data["page_image"], data["browser"]
    lines = [
        "### The web app's job page",
        "",
        f"The job page of a {data['pages']}-page scanned PDF ({page['boxes']:,} line boxes), "
        "signed in through the sign-in form. " + _machine(data) + " From `bench/web_app.py`.",
        "",
        "| what | figure |",
        "| --- | ---: |",
        f"| server's answer, median of 7 | {_number(page['median_seconds'] * 1000, 0)} ms |",
        f"| the page's HTML | {_number(page['html_bytes'] // 1024)} KB |",
        f"| one page image rendered from the searchable PDF, median | "
        f"{_number(image['median_seconds'] * 1000, 0)} ms, "
        f"{_number(image['median_bytes'] // 1024)} KB |",
    ]
    if "load_ms" in browser:
        lines += [
            f"| in chromium: DOMContentLoaded, from the request | "
            f"{_number(browser['dom_content_loaded_ms'], 0)} ms |",
            f"| in chromium: page images loaded 2 s later, unscrolled | "
            f"{browser['images_loaded_after_2s_unscrolled']} of {browser['images']} |",
        ]
    return [*lines, ""]


def render_benchmarks() -> str:
    sections = [
        _corpus,
        _throughput,
        _searchable_pdf,
        _cpu,
        _polling,
        _hostile_load,
        _scaleout,
        _web_app,
    ]
    return "\n".join(line for section in sections for line in section())


def _measured(
    name: str, table: Callable[[Json], list[str]], *, where: bool = True
) -> Callable[[], str]:
    """A table of ``bench/results/NAME.json`` for a page that explains it, after a line that
    says where and when it was measured (``where``)."""

    def render() -> str:
        data = _result(name)
        head = [f"{_machine(data)} From `bench/results/{name}.json`.", ""] if where else []
        return "\n".join([*head, *table(data), ""])

    return render


GENERATORS: dict[str, Callable[[], str]] = {
    "openapi": lambda: render_openapi(openapi()),
    "languages": render_languages,
    "scripts": render_scripts,
    "benchmarks": render_benchmarks,
    "bench-corpus": _measured("corpus", _corpus_table),
    "bench-corpus-cases": _measured("corpus", _corpus_cases, where=False),
    "bench-confidence": _measured("corpus", _confidence_table, where=False),
    "bench-throughput": _measured("throughput", _throughput_table),
    "bench-polling": _measured("polling", _polling_table),
    "bench-searchable-pdf": _measured("searchable_pdf", _searchable_pdf_table),
    "bench-hostile-load": _measured("hostile_load", _hostile_load_table),
}
