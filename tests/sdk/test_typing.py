"""``mypy --strict`` on scripts as a user writes them: a correct one passes, and typos in a
download format, a tier or a tool are caught on their own lines before anything runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import mypy.api

# mypy's cache for these runs (ignored by git): the SDK and its dependencies are checked
# once, later runs only the scripts (10 s down to 1 s)
CACHE = Path(__file__).resolve().parents[2] / ".mypy_cache" / "sdk-typing"

CORRECT = """
    import asyncio
    from pathlib import Path

    import ocrchat


    def report(client: ocrchat.Client) -> None:
        job = client.submit("invoice.pdf", tier="cpu", tool="extract-tables", pages="1-3")
        job = client.poll(job, interval=1, on_progress=lambda job: print(job.progress))
        pdf: bytes = client.download(job, "pdf")
        saved: Path = client.download(job, "xlsx", "invoice.xlsx")
        for fmt in ocrchat.DOWNLOAD_FORMATS:
            client.download(job, fmt, f"invoice.{fmt}")
        again = client.ocr(b"...", tier=ocrchat.Tier.VLM, language="deu")
        usage = client.account().usage
        today: int = usage.day
        cap: int | None = client.account().caps.month
        costs: int = client.account().costs.vlm
        raw = client.with_raw_response.get(job)
        status: int = raw.status_code
        request_id: str | None = raw.request_id
        parsed: ocrchat.Job = raw.parse()
        streamed: Path = client.with_raw_response.download(job, "md", "a.md").parse()
        print(pdf, saved, again, today, cap, costs, status, request_id, parsed, streamed)


    async def main() -> None:
        async with ocrchat.AsyncClient() as client:
            job = await client.ocr("scan.png", tier="vlm", tool="handwriting-to-text")
            text: bytes = await client.download(job, "txt")
            raw = await client.with_raw_response.download(job, "docx")
            body: bytes = raw.parse()
            try:
                await client.get("nope")
            except ocrchat.APIStatusError as error:
                print(error.request_id)
            print(text, body)


    asyncio.run(main())
"""

TYPOS = """
    import ocrchat

    client = ocrchat.Client()
    job = client.submit("invoice.pdf", tier="gpu")  # error
    client.download(job, "pfd")  # error
    client.ocr("scan.png", tool="extract-table")  # error
    fmt: ocrchat.DownloadFormat = "doc"  # error
    print(client.account().usage["day"])  # error
    raw: bytes = client.with_raw_response.download(job, "pdf").parse()
    saved: bytes = client.download(job, "pdf", "out.pdf")  # error
"""


def check(tmp_path: Path, **scripts: str) -> dict[str, set[int]]:
    """Run ``mypy --strict`` (no project configuration) on the scripts; the lines with an
    error in each."""
    for name, text in scripts.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text).lstrip())
    report, errors, _ = mypy.api.run(
        [
            "--strict",
            "--config-file=",
            f"--cache-dir={CACHE}",
            *(str(tmp_path / f"{name}.py") for name in scripts),
        ]
    )
    assert not errors, errors
    lines: dict[str, set[int]] = {name: set() for name in scripts}
    for line in report.splitlines():
        where, _, message = line.partition(": error: ")
        if message:
            path, _, number = where.rpartition(":")
            lines[Path(path).stem].add(int(number))
    return lines


def test_a_correct_script_passes_and_typos_fail_on_their_lines(tmp_path: Path) -> None:
    found = check(tmp_path, correct=CORRECT, typos=TYPOS)

    assert found["correct"] == set()
    marked = {
        number
        for number, line in enumerate(textwrap.dedent(TYPOS).lstrip().splitlines(), start=1)
        if line.endswith("# error")
    }
    assert found["typos"] == marked
