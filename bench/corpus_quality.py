"""OCR quality of the cpu tier through the server, on the shared corpus's real scans.

    nox -s bench             # or: python bench/corpus_quality.py

Every case of ``../shared/corpus`` goes through the real app twice: with
``language=auto`` and with the case's own Tesseract language. The text is
scored against the corpus's third-party ground truth with the corpus's own
scorer (CER, WER, bag-of-words F1, micro-averaged by kind), next to the
plain ``tesseract`` baseline that ships with the corpus.

Results go to ``bench/results/corpus.json``. The corpus's attributions are
in its README; this script ships none of its content.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from starlette.testclient import TestClient  # noqa: E402
from tests.documents import CORPUS, corpus_scorer  # noqa: E402
from tests.live import make_accounts  # noqa: E402

from ocrchat_server.app import create_app  # noqa: E402
from ocrchat_server.settings import Settings  # noqa: E402


def micro(rows: list[dict[str, Any]]) -> dict[str, float]:
    chars = sum(r["ref_chars"] for r in rows)
    words = sum(r["ref_words"] for r in rows)
    return {
        "cer": round(sum(r["char_edits"] for r in rows) / chars, 3),
        "wer": round(sum(r["word_edits"] for r in rows) / words, 3),
        "bow_f1": round(sum(r["bow_f1"] for r in rows) / len(rows), 3),
    }


def main() -> None:
    score = corpus_scorer()
    cases = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["cases"]
    baseline_dir = CORPUS / "baselines" / "tesseract"
    results: dict[str, list[dict[str, Any]]] = {"auto": [], "named": [], "baseline": []}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", workers=2)
        (token,) = make_accounts(settings, "bench")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings)) as client:
            for case in cases:
                reference = (CORPUS / case["gt_file"]).read_text(encoding="utf-8")
                source = CORPUS / case["file"]
                for mode, language in (("auto", "auto"), ("named", case["tesseract_lang"])):
                    started = time.perf_counter()
                    job = client.post(
                        "/api/v1/ocr/",
                        headers=headers,
                        data={"language": language},
                        files={"file": (source.name, source.read_bytes())},
                    ).json()
                    while job["status"] not in ("done", "failed"):
                        time.sleep(0.5)
                        job = client.get(f"/api/v1/ocr/{job['uuid']}/", headers=headers).json()
                    row = score.score_pair(reference, job.get("text") or "")
                    row.update(
                        case=case["id"],
                        kind=case["kind"],
                        language=language,
                        seconds=round(time.perf_counter() - started, 1),
                        rotation=[p.get("rotation") for p in job.get("pages") or []],
                        models=[p.get("language") for p in job.get("pages") or []],
                    )
                    results[mode].append(row)
                baseline = (baseline_dir / f"{case['id']}.txt").read_text(encoding="utf-8")
                row = score.score_pair(reference, baseline)
                row.update(case=case["id"], kind=case["kind"])
                results["baseline"].append(row)
    kinds = sorted({case["kind"] for case in cases})
    summary = {
        mode: {"all": micro(rows), **{k: micro([r for r in rows if r["kind"] == k]) for k in kinds}}
        for mode, rows in results.items()
    }
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "summary": summary,
        "cases": results,
    }
    out = ROOT / "bench" / "results" / "corpus.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for mode, by_kind in summary.items():
        print(mode, json.dumps(by_kind))


if __name__ == "__main__":
    main()
