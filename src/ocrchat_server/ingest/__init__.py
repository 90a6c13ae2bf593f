"""Uploaded files: what they are (from their bytes) and their pages, one at a time."""

from ocrchat_server.ingest.pages import open_page
from ocrchat_server.ingest.sniff import PDF, Document, UnreadableDocumentError, sniff_document

__all__ = ["PDF", "Document", "UnreadableDocumentError", "open_page", "sniff_document"]
