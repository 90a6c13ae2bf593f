#!/usr/bin/env bash
# The public service's curl example: submit, poll, download Markdown and Word.
#
#   OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=... examples/curl.sh invoice.pdf
#
# The calls are the docs' own; the base URL, token, file and tier (the docs
# use vlm; a server without the vlm tier needs OCRCHAT_TIER=cpu) come from
# the environment. python3 only reads fields out of the JSON answers.
set -euo pipefail

API="${OCRCHAT_BASE_URL:-https://ocr.chat}/api/v1/ocr"
FILE="${1:-invoice.pdf}"
field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

job=$(curl -s -H "Authorization: Bearer $OCRCHAT_API_TOKEN" \
    -F "file=@$FILE" -F "tier=${OCRCHAT_TIER:-vlm}" -F "language=auto" "$API/")
uuid=$(echo "$job" | field uuid)
status=$(echo "$job" | field status)

while [ "$status" = "pending" ] || [ "$status" = "processing" ]; do
    sleep 2
    job=$(curl -s -H "Authorization: Bearer $OCRCHAT_API_TOKEN" "$API/$uuid/")
    status=$(echo "$job" | field status)
done
echo "$uuid $status"

curl -s -L -H "Authorization: Bearer $OCRCHAT_API_TOKEN" "$API/$uuid/download/?format=md" -o result.md
curl -s -L -H "Authorization: Bearer $OCRCHAT_API_TOKEN" "$API/$uuid/download/?format=docx" -o result.docx
