"""OCR quality of the cpu tier through the server, on the shared corpus's real scans, side by
side with the plain ``tesseract`` command on the same pages in the same run.

    nox -s bench             # or: python bench/corpus_quality.py

Every case of ``../shared/corpus`` goes through the real app three ways: the
case's language named (default engine), ``language=auto``, and
``engine=tesseract`` with the language named. The same pages are read by
``tesseract IMAGE - -l LANG`` (a PDF's pages extracted with ``pdfimages``,
as the corpus's baseline does). Every text is scored against the corpus's
third-party ground truth with the corpus's own scorer: CER, WER and
bag-of-words F1 per case, micro-averaged per kind and overall, with and
without the handwriting pages (the goals leave handwriting aside).

Also measured: a 20-page born-digital PDF read from its text layer (pages a second).

Results go to ``bench/results/corpus.json``. The corpus's attributions are
in its README; this script ships none of its content.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pytesseract  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402
from tests.documents import corpus_scorer, numbered_pdf  # noqa: E402
from tests.live import make_accounts  # noqa: E402

from ocrchat_server.app import create_app  # noqa: E402
from ocrchat_server.engines import tesseract_api  # noqa: E402
from ocrchat_server.settings import Settings  # noqa: E402

MODES = ("named", "auto", "tesseract", "cli")
CORPUS = ROOT.parent / "shared" / "corpus"
"""The whole development corpus, beside the project (the tests use its pages in tests/data)."""


def micro(rows: list[dict[str, Any]]) -> dict[str, float]:
    if not rows:
        return {}
    chars = sum(r["ref_chars"] for r in rows)
    words = sum(r["ref_words"] for r in rows)
    return {
        "cer": round(sum(r["char_edits"] for r in rows) / chars, 4),
        "wer": round(sum(r["word_edits"] for r in rows) / words, 4),
        "bow_f1": round(sum(r["bow_f1"] for r in rows) / len(rows), 4),
        "seconds_per_page": round(
            sum(r["seconds"] for r in rows) / sum(r["pages"] for r in rows), 2
        ),
    }


def tesseract_cli(source: Path, language: str) -> tuple[str, float]:
    """The plain command's text of every page, and its seconds."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        if source.suffix == ".pdf":
            subprocess.run(["pdfimages", "-all", str(source), f"{tmp}/p"], check=True)
            pages = sorted(Path(tmp).iterdir())
        else:
            pages = [source]
        started = time.perf_counter()
        texts = [
            subprocess.run(
                ["tesseract", str(page), "-", "-l", language],
                capture_output=True, text=True, check=True, env=env,
            ).stdout
            for page in pages
        ]  # fmt: skip
        return "\n".join(texts), time.perf_counter() - started


def submit(client: TestClient, headers: dict[str, str], source: Path, **fields: str) -> Any:
    job = client.post(
        "/api/v1/ocr/",
        headers=headers,
        data=fields,
        files={"file": (source.name, source.read_bytes())},
    ).json()
    while job["status"] not in ("done", "failed"):
        time.sleep(0.2)
        job = client.get(f"/api/v1/ocr/{job['uuid']}/", headers=headers).json()
    return job


def main() -> None:
    score = corpus_scorer()
    cases = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["cases"]
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    blocks: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", workers=2)
        (token,) = make_accounts(settings, "bench")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings)) as client:
            for case in cases:
                reference = (CORPUS / case["gt_file"]).read_text(encoding="utf-8")
                source = CORPUS / case["file"]
                language = case["tesseract_lang"]
                runs = {
                    "named": {"language": language},
                    "auto": {"language": "auto"},
                    "tesseract": {"language": language, "engine": "tesseract"},
                }
                for mode, fields in runs.items():
                    started = time.perf_counter()
                    job = submit(client, headers, source, **fields)
                    row = score.score_pair(reference, job.get("text") or "")
                    pages = job.get("pages") or []
                    row.update(
                        case=case["id"],
                        kind=case["kind"],
                        pages=case["pages"],
                        seconds=round(time.perf_counter() - started, 2),
                        status=job["status"],
                        engines=[p.get("engine") for p in pages],
                        models=[p.get("language") for p in pages],
                        detected=[p.get("detected_languages") for p in pages],
                        rotation=[p.get("rotation") for p in pages],
                    )
                    results[mode].append(row)
                    if mode == "named":
                        blocks += block_errors(score, reference, case["kind"], pages)
                    print(mode, case["id"], round(row["char_edits"] / row["ref_chars"], 3),
                          row["seconds"], row["engines"], flush=True)  # fmt: skip
                text, seconds = tesseract_cli(source, language)
                row = score.score_pair(reference, text)
                row.update(case=case["id"], kind=case["kind"], pages=case["pages"],
                           seconds=round(seconds, 2))  # fmt: skip
                results["cli"].append(row)
            text_layer = text_layer_speed(client, headers, Path(tmp))
    kinds = sorted({case["kind"] for case in cases})
    summary: dict[str, Any] = {
        mode: {
            "all": micro(rows),
            "all_but_handwriting": micro([r for r in rows if r["kind"] != "handwriting"]),
            **{k: micro([r for r in rows if r["kind"] == k]) for k in kinds},
        }
        for mode, rows in results.items()
    }
    ratios = {
        mode: {
            group: round(summary[mode][group]["cer"] / summary["cli"][group]["cer"], 3)
            for group in summary["cli"]
            if summary["cli"][group].get("cer")
        }
        for mode in ("named", "auto", "tesseract")
    }
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": (
            f"{os.cpu_count()} cores, 2 server workers; the server's Tesseract "
            f"{tesseract_api.version()}, the command's "
            f"{pytesseract.get_tesseract_version().base_version}"
        ),
        "summary": summary,
        "cer_against_tesseract_cli": ratios,
        "text_layer_pdf": text_layer,
        "confidence_against_error": confidence_bins(blocks),
        "cases": results,
    }
    out = ROOT / "bench" / "results" / "corpus.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for mode, by_kind in summary.items():
        print(mode, json.dumps({k: v.get("cer") for k, v in by_kind.items()}))
    print("CER / tesseract CLI:", json.dumps(ratios))
    print("text layer:", json.dumps(text_layer))
    print("confidence:", json.dumps(report["confidence_against_error"]))


def block_errors(
    score: Any, reference: str, kind: str, pages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each block's confidence and its error: the CER against the ground-truth line it is
    closest to (handwriting aside, like the goals)."""
    if kind == "handwriting":
        return []
    lines = [score.normalize(line) for line in reference.splitlines() if line.strip()]
    rows = []
    for page in pages:
        for block in page.get("blocks") or []:
            text = score.normalize(block["text"])
            if not text or not lines:
                continue
            error = min(score.edit_distance(line, text) / max(len(line), 1) for line in lines)
            rows.append(
                {"engine": block.get("engine"), "confidence": block["confidence"], "cer": error}
            )
    return rows


CONFIDENCE_BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)


def confidence_bins(blocks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Mean block error per band of confidence, per engine."""
    table: dict[str, list[dict[str, Any]]] = {}
    for engine in sorted({str(block["engine"]) for block in blocks}):
        mine = [block for block in blocks if str(block["engine"]) == engine]
        table[engine] = []
        for low, high in itertools.pairwise(CONFIDENCE_BINS):
            band = [block["cer"] for block in mine if low <= block["confidence"] < high]
            if band:
                table[engine].append(
                    {
                        "confidence": f"{low:.2f}-{min(high, 1.0):.2f}",
                        "blocks": len(band),
                        "mean_cer": round(sum(band) / len(band), 3),
                    }
                )
    return table


def text_layer_speed(client: TestClient, headers: dict[str, str], tmp: Path) -> dict[str, Any]:
    """A 20-page born-digital PDF (fpdf2), read from its text layer through the server: from
    the upload's arrival to the job's end, as the job's own times say, and as a client polling
    every 20 ms sees it."""
    path = tmp / "born-digital.pdf"
    path.write_bytes(numbered_pdf(20))
    submit(client, headers, path)  # warm: the first job starts the workers
    started = time.perf_counter()
    job = client.post(
        "/api/v1/ocr/", headers=headers, files={"file": (path.name, path.read_bytes())}
    ).json()
    while job["status"] not in ("done", "failed"):
        time.sleep(0.02)
        job = client.get(f"/api/v1/ocr/{job['uuid']}/", headers=headers).json()
    seen = time.perf_counter() - started
    server = (
        dt.datetime.fromisoformat(job["finished_at"]) - dt.datetime.fromisoformat(job["created_at"])
    ).total_seconds()
    return {
        "pages": 20,
        "server_seconds": round(server, 3),
        "pages_per_second": round(20 / server, 1),
        "client_seconds": round(seen, 3),
        "client_pages_per_second": round(20 / seen, 1),
        "sources": sorted({p["source"] for p in job["pages"]}),
    }


if __name__ == "__main__":
    main()
