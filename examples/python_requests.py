"""The public service's Python example (requests): submit, poll, print Markdown, download.

The code is the docs' example; only what the docs hard-code comes from the
environment, so it runs against ocr.chat or a self-hosted server:

    OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=... \
        python examples/python_requests.py invoice.pdf

OCRCHAT_TIER defaults to ``vlm`` as in the docs; a server without the vlm
tier answers 503, so use OCRCHAT_TIER=cpu there.
"""

import os
import sys
import time

import requests

API = os.environ.get("OCRCHAT_BASE_URL", "https://ocr.chat").rstrip("/") + "/api/v1/ocr/"
H = {"Authorization": "Bearer " + os.environ["OCRCHAT_API_TOKEN"]}
TIER = os.environ.get("OCRCHAT_TIER", "vlm")
path = sys.argv[1] if len(sys.argv) > 1 else "invoice.pdf"

with open(path, "rb") as f:
    job = requests.post(API, headers=H, files={"file": f}, data={"tier": TIER}).json()

while job["status"] in ("pending", "processing"):
    time.sleep(2)
    job = requests.get(API + job["uuid"] + "/", headers=H).json()

print(job["markdown"])

r = requests.get(API + job["uuid"] + "/download/", headers=H, params={"format": "docx"})
with open("result.docx", "wb") as out:
    out.write(r.content)
