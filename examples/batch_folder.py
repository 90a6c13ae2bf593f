"""Batch a folder: OCR every image and PDF in it concurrently, a few at a time, with
``AsyncClient`` and a bounded semaphore, and save each one's text.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    python examples/batch_folder.py [FOLDER] [--out DIR] [--concurrency N]

FOLDER defaults to ``data/`` beside this script; the texts go to ``DIR/<file name>.txt``
(default ``ocr-output/`` in the current directory). At most N documents (default 4) are
in flight at once: each is submitted and waited for inside the semaphore, so a folder of
thousands never queues them all at once. A document that fails is reported and the others
go on; the exit status is 1 if any failed. Needs only ``pip install ocrchat``.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

import ocrchat

HERE = Path(__file__).resolve().parent
SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp", ".gif"}


async def read_one(
    client: ocrchat.AsyncClient, slots: asyncio.Semaphore, path: Path, out: Path
) -> bool:
    async with slots:  # waits here while N others are in flight
        started = time.monotonic()
        try:
            job = await client.ocr(path, language="auto")
        except ocrchat.OcrchatError as error:  # this file only: the others go on
            print(f"failed {path.name}: {error}")
            return False
    target = out / f"{path.name}.txt"
    target.write_text(job.text or "", encoding="utf-8")
    seconds = time.monotonic() - started
    print(f"done   {path.name}: {job.page_count} page(s) in {seconds:.1f} s -> {target}")
    return True


async def main() -> int:
    parser = argparse.ArgumentParser(description="OCR every document in a folder.")
    parser.add_argument("folder", nargs="?", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=Path("ocr-output"))
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    files = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in SUFFIXES)
    args.out.mkdir(parents=True, exist_ok=True)
    slots = asyncio.BoundedSemaphore(args.concurrency)
    async with ocrchat.AsyncClient() as client:  # $OCRCHAT_BASE_URL, $OCRCHAT_API_TOKEN
        read = await asyncio.gather(*(read_one(client, slots, p, args.out) for p in files))
    print(f"{sum(read)} of {len(files)} documents read")
    return 0 if all(read) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
