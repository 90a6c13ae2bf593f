"""The web app's job page for a 50-page document: how fast it opens, and that its page
images load lazily.

    nox -s bench                 # or: python bench/web_app.py [--pages 50]

A real server (``ocrchat-server serve``, a worker per core) on 127.0.0.1 reads a PDF of
``--pages`` real scanned pages (the five scans of ``tests/data``, EHRI Dataset,
CC BY 4.0, see ``tests/data/README.md``, over and over). Then, signed in through the
sign-in form as a browser is:

- ``GET /jobs/<uuid>``: the server's time to answer (median of 7), the HTML's size, the
  boxes drawn;
- ``GET /jobs/<uuid>/pages/<n>.png``: each page image's time to render from the
  searchable PDF, and its size (median over the first 5 pages);
- in Debian's chromium (Playwright, ``executable_path``): the page's navigation timing
  (DOMContentLoaded and load, from the request's start) and how many page images had
  loaded by then, and two seconds later without scrolling, of all of them.

Results go to ``bench/results/web_app.json`` (and are printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import img2pdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_server, write_results  # noqa: E402
from tests.documents import TEST_DATA  # noqa: E402

SCANS = sorted(TEST_DATA.glob("en_ehri_*.jpg"))
CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def scanned_pdf(pages: int, out: Path) -> Path:
    images = [SCANS[i % len(SCANS)].read_bytes() for i in range(pages)]
    out.write_bytes(img2pdf.convert(images))
    return out


def sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/signin").text
    match = re.search(r'name="csrf" value="([^"]+)"', form)
    if match is None:
        raise RuntimeError("no CSRF field on the sign-in form")
    answer = client.post("/signin", data={"csrf": match[1], "token": token})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")


def timed_get(client: httpx.Client, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed, len(response.content)


def in_browser(base_url: str, token: str, uuid: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    executable = next((path for path in CHROMIUM if Path(path).exists()), None)
    if executable is None:
        return {"skipped": "chromium is not installed (scripts/setup-debian --test)"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base_url}/signin")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/jobs")
        page.goto(f"{base_url}/jobs/{uuid}", wait_until="load")
        timing = page.evaluate(
            """() => {
                const nav = performance.getEntriesByType("navigation")[0];
                const images = Array.from(document.querySelectorAll("figure.page img"));
                return {
                    response_end_ms: nav.responseEnd - nav.requestStart,
                    dom_content_loaded_ms: nav.domContentLoadedEventEnd - nav.requestStart,
                    load_ms: nav.loadEventEnd - nav.requestStart,
                    images: images.length,
                    images_loaded: images.filter((i) => i.complete && i.naturalWidth > 0).length,
                    boxes: document.querySelectorAll(".overlay .box").length,
                };
            }"""
        )
        # unscrolled, a while later: only the pages in view (and just below) have loaded
        page.wait_for_timeout(2000)
        timing["images_loaded_after_2s_unscrolled"] = page.evaluate(
            """() => Array.from(document.querySelectorAll("figure.page img"))
                .filter((i) => i.complete && i.naturalWidth > 0).length"""
        )
        browser.close()
    return {"chromium": executable, **timing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = scanned_pdf(args.pages, folder / "scans.pdf")
        with bench_server(folder / "data", cores) as (client, headers, server):
            token = headers["Authorization"].removeprefix("Bearer ")
            with pdf.open("rb") as upload:
                job = client.post(
                    "/api/v1/ocr/",
                    headers=headers,
                    files={"file": ("scans.pdf", upload, "application/pdf")},
                    data={"language": "eng"},
                ).json()
            started = time.monotonic()
            while job["status"] not in ("done", "failed"):
                time.sleep(2)
                job = client.get(f"/api/v1/ocr/{job['uuid']}/", headers=headers).json()
            read_seconds = time.monotonic() - started
            if job["status"] != "done":
                raise RuntimeError(f"the job failed: {job.get('error')}")
            uuid = job["uuid"]
            with httpx.Client(base_url=server.url, timeout=120) as browser_like:
                sign_in(browser_like, token)
                timed_get(browser_like, f"/jobs/{uuid}")  # warm: the first read of job.json
                page_runs = [timed_get(browser_like, f"/jobs/{uuid}") for _ in range(7)]
                html = browser_like.get(f"/jobs/{uuid}").text
                image_runs = [
                    timed_get(browser_like, f"/jobs/{uuid}/pages/{n}.png") for n in range(1, 6)
                ]
            browser = in_browser(server.url, token, uuid)
    report = {
        "what": "the web app's job page of a long scanned document (bench/web_app.py)",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": cores, "python": platform.python_version()},
        "pages": args.pages,
        "ocr_seconds": round(read_seconds, 1),
        "job_page": {
            "median_seconds": round(statistics.median(t for t, _ in page_runs), 4),
            "max_seconds": round(max(t for t, _ in page_runs), 4),
            "html_bytes": len(html.encode()),
            "boxes": html.count('class="box'),
        },
        "page_image": {
            "median_seconds": round(statistics.median(t for t, _ in image_runs), 4),
            "median_bytes": int(statistics.median(size for _, size in image_runs)),
        },
        "browser": browser,
        "tools": {"chromium": shutil.which("chromium")},
    }
    write_results("web_app.json", report)


if __name__ == "__main__":
    main()
