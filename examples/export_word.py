"""Export to Word: OCR a scan and download it as an editable ``.docx``.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    python examples/export_word.py [DOCUMENT]

Without DOCUMENT it reads ``data/en_ehri_typed_dr19390519_03.jpg`` beside this script (a
typed report of 1939, EHRI, CC BY 4.0). The Word file, ``<name>.docx`` in the current
directory, holds the text with its headings, lists and tables, one section per page.
The same call gives ``txt``, ``md``, ``json``, ``csv``, ``xlsx`` or a searchable ``pdf``.
Needs only ``pip install ocrchat``.
"""

import sys
from pathlib import Path

import ocrchat

HERE = Path(__file__).resolve().parent
SCAN = HERE / "data/en_ehri_typed_dr19390519_03.jpg"
document = Path(sys.argv[1]) if len(sys.argv) > 1 else SCAN

with ocrchat.Client() as client:  # $OCRCHAT_BASE_URL and $OCRCHAT_API_TOKEN
    job = client.ocr(document, language="eng")
    # streamed to a temporary file beside the target, renamed once whole
    word = client.download(job, "docx", Path(document.stem + ".docx"))

print(f"{job.page_count} page(s) read; Word document written to {word}")
