"""A long PDF with a progress bar: submit it, show the pages read as the server works,
then save its Markdown.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    python examples/long_pdf_progress.py [PDF]

Without PDF it reads ``data/annual_report.pdf`` beside this script: six scanned pages
(made by data/make_samples.py). A file of more than 5 pages comes back ``pending``, and
``client.ocr`` polls it, calling ``on_progress`` with the job after every look; here that
draws a bar on stderr. The Markdown goes to ``<name>.md`` in the current directory.
Needs only ``pip install ocrchat``: the bar is plain text (the ``ocrchat`` command draws
one with rich).
"""

import sys
from pathlib import Path

import ocrchat

HERE = Path(__file__).resolve().parent
WIDTH = 30
pdf = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data/annual_report.pdf"


def show_progress(job: ocrchat.Job) -> None:
    if job.progress is None or not job.progress.pages_total:
        return
    done, total = job.progress.pages_done, job.progress.pages_total
    filled = WIDTH * done // total
    bar = "#" * filled + "-" * (WIDTH - filled)
    print(f"\r{pdf.name} [{bar}] {done}/{total} pages", end="", file=sys.stderr, flush=True)


with ocrchat.Client() as client:  # $OCRCHAT_BASE_URL and $OCRCHAT_API_TOKEN
    job = client.ocr(pdf, language="eng", interval=1, on_progress=show_progress)
print(file=sys.stderr)  # end the bar's line

out = Path(pdf.stem + ".md")
out.write_text(job.markdown or "", encoding="utf-8")
print(f"{job.page_count} pages read, Markdown written to {out}")
assert job.pages is not None
for page in job.pages:
    scores = [block.confidence for block in page.blocks]
    confidence = f"{sum(scores) / len(scores):.0%}" if scores else "n/a"
    print(f"page {page.index + 1}: {len(page.blocks)} lines, confidence {confidence}")
