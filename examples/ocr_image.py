"""OCR an image: upload a scanned page, print its text and how sure the engine was.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    python examples/ocr_image.py [IMAGE]

Without IMAGE it reads ``data/en_ehri_typed_dr19390519_03.jpg`` beside this script: a
typed report of 1939 (EHRI, CC BY 4.0; see data/README.md). A page is read within the
request, so ``client.ocr`` returns the finished job at once. Needs ``pip install ocrchat``.
"""

import sys
from pathlib import Path

import ocrchat

HERE = Path(__file__).resolve().parent
SCAN = HERE / "data/en_ehri_typed_dr19390519_03.jpg"
image = Path(sys.argv[1]) if len(sys.argv) > 1 else SCAN

with ocrchat.Client() as client:  # $OCRCHAT_BASE_URL and $OCRCHAT_API_TOKEN
    job = client.ocr(image, language="eng")  # or "auto", or "deu+eng"

print(job.text)
assert job.pages is not None  # a done job has its pages
lines = [block for page in job.pages for block in page.blocks]
doubtful = [block.text for block in lines if block.low_confidence]
confidence = f"{job.mean_confidence:.0%}" if job.mean_confidence is not None else "n/a"
print(f"--- {job.page_count} page(s), {len(lines)} lines, mean confidence {confidence}")
for text in doubtful:  # below the server's threshold: worth a human look
    print(f"check: {text}")
