#!/usr/bin/env python3
"""Score OCR output against the dev corpus (stdlib only).

    python3 score.py PRED_DIR [--manifest PATH] [--json OUT] [--casefold] [--nfkc]
    python3 score.py --selftest

PRED_DIR/<case_id>.txt is the engine's text for one case (for the PDF case:
all pages, in order).  A missing file scores as empty output.

Both sides are normalised the same way before comparison: Unicode NFC, BOM /
soft hyphen / zero-width space / word joiner removed, every whitespace run
(newlines included) collapsed to one space, ends stripped.  Optionally
case-folded, or NFKC instead of NFC (--nfkc: folds long s to s and
presentation-form ligatures, handy for the diplomatic historic GT).  Nothing
else: punctuation, long s (by default) and hyphenation count.

CER = character edit distance / reference characters (spaces count).
WER = word edit distance / reference words.
BoW = F1 of the word multisets, blind to order: read it next to CER/WER on
tables and multi-column pages, where the GT order is one valid order of many.
Totals are micro averages (edits summed over cases / reference length summed),
per kind and overall.  CER/WER above 1.0 mean more inserted junk than text.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from collections import Counter, defaultdict

_DROP = {ord(c): None for c in "\ufeff\u00ad\u200b\u2060"}


def normalize(text: str, casefold: bool = False, form: str = "NFC") -> str:
    text = unicodedata.normalize(form, text).translate(_DROP)
    if casefold:
        text = text.casefold()
    return " ".join(text.split())


def edit_distance(ref, hyp) -> int:
    """Levenshtein distance between two sequences (str or list of tokens).

    Bit-vector method: one Python int holds a whole column of the DP matrix,
    one bit per reference position, so a page costs len(hyp) big-int steps.
    Bit i of vp/vn says the vertical delta D[i+1][j]-D[i][j] is +1/-1.
    """
    m = len(ref)
    if m == 0:
        return len(hyp)
    if len(hyp) == 0:
        return m
    masks: dict = {}
    for i, sym in enumerate(ref):
        masks[sym] = masks.get(sym, 0) | (1 << i)
    full = (1 << m) - 1
    top = 1 << (m - 1)
    vp, vn, dist = full, 0, m
    for sym in hyp:
        eq = masks.get(sym, 0)
        d0 = ((((eq & vp) + vp) ^ vp) | eq | vn) & full
        hp = (vn | ~(d0 | vp)) & full
        hn = vp & d0
        if hp & top:
            dist += 1
        elif hn & top:
            dist -= 1
        hp = ((hp << 1) | 1) & full  # row 0 of the matrix grows by one per step
        hn = (hn << 1) & full
        vp = (hn | ~(d0 | hp)) & full
        vn = hp & d0
    return dist


def bow_f1(ref_words, hyp_words) -> float:
    if not ref_words and not hyp_words:
        return 1.0
    common = sum((Counter(ref_words) & Counter(hyp_words)).values())
    if common == 0:
        return 0.0
    p, r = common / len(hyp_words), common / len(ref_words)
    return 2 * p * r / (p + r)


def score_pair(ref_text: str, hyp_text: str, casefold: bool = False, form: str = "NFC") -> dict:
    ref, hyp = normalize(ref_text, casefold, form), normalize(hyp_text, casefold, form)
    rw, hw = ref.split(), hyp.split()
    return {
        "ref_chars": len(ref),
        "char_edits": edit_distance(ref, hyp),
        "ref_words": len(rw),
        "word_edits": edit_distance(rw, hw),
        "bow_f1": bow_f1(rw, hw),
    }


def _ratio(num: int, den: int) -> float:
    return num / den if den else (0.0 if num == 0 else float("inf"))


def run(pred_dir: str, manifest_path: str, casefold: bool = False, form: str = "NFC") -> dict:
    base = os.path.dirname(os.path.abspath(manifest_path))
    with open(manifest_path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    rows, missing = [], []
    for c in cases:
        with open(os.path.join(base, c["gt_file"]), encoding="utf-8") as f:
            ref = f.read()
        pred_path = os.path.join(pred_dir, c["id"] + ".txt")
        if os.path.exists(pred_path):
            with open(pred_path, encoding="utf-8", errors="replace") as f:
                hyp = f.read()
        else:
            hyp = ""
            missing.append(c["id"])
        s = score_pair(ref, hyp, casefold, form)
        s.update(
            id=c["id"],
            kind=c["kind"],
            lang=c["lang"],
            pages=c.get("pages", 1),
            cer=_ratio(s["char_edits"], s["ref_chars"]),
            wer=_ratio(s["word_edits"], s["ref_words"]),
        )
        rows.append(s)

    def total(group):
        return {
            "cases": len(group),
            "pages": sum(r["pages"] for r in group),
            "cer": _ratio(sum(r["char_edits"] for r in group), sum(r["ref_chars"] for r in group)),
            "wer": _ratio(sum(r["word_edits"] for r in group), sum(r["ref_words"] for r in group)),
            "bow_f1": sum(r["bow_f1"] for r in group) / len(group),
        }

    by_kind = defaultdict(list)
    for r in rows:
        by_kind[r["kind"]].append(r)
    return {
        "cases": rows,
        "missing": missing,
        "by_kind": {k: total(v) for k, v in sorted(by_kind.items())},
        "all": total(rows),
    }


def print_report(res: dict) -> None:
    print(f"{'case':42s} {'kind':12s} {'chars':>6s} {'CER':>7s} {'WER':>7s} {'BoW':>6s}")
    for r in res["cases"]:
        print(
            f"{r['id']:42s} {r['kind']:12s} {r['ref_chars']:6d} "
            f"{r['cer']:7.3f} {r['wer']:7.3f} {r['bow_f1']:6.3f}"
        )
    print()
    print(
        f"{'micro average':42s} {'cases':>12s} {'pages':>6s} {'CER':>7s} {'WER':>7s} {'BoW*':>6s}"
    )
    for name, t in list(res["by_kind"].items()) + [("ALL", res["all"])]:
        print(
            f"{name:42s} {t['cases']:12d} {t['pages']:6d} "
            f"{t['cer']:7.3f} {t['wer']:7.3f} {t['bow_f1']:6.3f}"
        )
    print("(* BoW-F1 is a mean over cases)")
    if res["missing"]:
        print(f"\nmissing predictions (scored as empty): {', '.join(res['missing'])}")


def selftest() -> None:
    import random

    def slow(a, b):
        prev = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            cur = [i]
            for j, y in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
            prev = cur
        return prev[-1]

    rnd = random.Random(7)
    for _ in range(2000):
        a = "".join(rnd.choice("abcſ é") for _ in range(rnd.randint(0, 40)))
        b = "".join(rnd.choice("abcſ é") for _ in range(rnd.randint(0, 40)))
        assert edit_distance(a, b) == slow(a, b), (a, b)
        assert edit_distance(a.split(), b.split()) == slow(a.split(), b.split())
    assert edit_distance("kitten", "sitting") == 3
    assert normalize("e\u0301te\u00ad\n\n  x\u200b") == "\u00e9te x"
    assert normalize("Teſtament \ufb01n", form="NFKC") == "Testament fin"
    s = score_pair("the cat sat", "the  cat\nsat")
    assert s["char_edits"] == 0 and s["word_edits"] == 0 and s["bow_f1"] == 1.0
    s = score_pair("a b c d", "d c b a")
    assert s["bow_f1"] == 1.0 and s["word_edits"] == 4
    print("selftest ok")


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="CER/WER of OCR output against the dev corpus")
    ap.add_argument("pred_dir", nargs="?", help="folder with <case_id>.txt files")
    ap.add_argument("--manifest", default=os.path.join(here, "manifest.json"))
    ap.add_argument("--json", help="also write the full result as JSON here")
    ap.add_argument("--casefold", action="store_true", help="ignore case")
    ap.add_argument(
        "--nfkc",
        action="store_true",
        help="normalise with NFKC instead of NFC (long s -> s, ligatures)",
    )
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)
    if a.selftest:
        selftest()
        return 0
    if not a.pred_dir:
        ap.error("PRED_DIR is required")
    if not os.path.isdir(a.pred_dir):
        ap.error(f"not a directory: {a.pred_dir}")
    res = run(a.pred_dir, a.manifest, a.casefold, "NFKC" if a.nfkc else "NFC")
    print_report(res)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
