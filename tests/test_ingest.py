"""Type sniffing from bytes and one-page-at-a-time reading, on real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrchat_server.engines.base import EngineError
from ocrchat_server.ingest import Document, UnreadableDocumentError, open_page, sniff_document
from tests.documents import image_bytes, multipage_tiff, numbered_pdf, render_page

PAGE = render_page([["Sniff me"]], size=(400, 300), font_size=30)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (image_bytes(PAGE, "PNG"), Document("png", 1)),
        (image_bytes(PAGE, "JPEG"), Document("jpeg", 1)),
        (image_bytes(PAGE, "WEBP"), Document("webp", 1)),
        (image_bytes(PAGE, "GIF"), Document("gif", 1)),
        (image_bytes(PAGE, "BMP"), Document("bmp", 1)),
        (multipage_tiff([PAGE, PAGE, PAGE, PAGE]), Document("tiff", 4)),
        (numbered_pdf(3), Document("pdf", 3)),
        (b"junk before the header " + numbered_pdf(1), Document("pdf", 1)),
    ],
)
def test_type_and_pages_come_from_the_bytes(
    tmp_path: Path, content: bytes, expected: Document
) -> None:
    path = tmp_path / "upload.txt"  # a misleading name on purpose
    path.write_bytes(content)
    assert sniff_document(path) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 a zip file", "not a supported document"),
        (b"%PDF-1.4 but nothing else", "PDF could not be read"),
        (image_bytes(PAGE, "PNG")[:400], "damaged"),
    ],
    ids=["empty", "zip", "broken-pdf", "cut-png"],
)
def test_unreadable_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(UnreadableDocumentError, match=message):
        sniff_document(path)


def test_pdf_pages_are_rasterized_one_at_a_time_at_300_dpi(tmp_path: Path) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(numbered_pdf(3))
    document = sniff_document(path)
    page = open_page(path, document, 2)
    assert page.info["dpi"] == (300, 300)
    assert abs(page.width - 2480) < 10  # A4 at 300 dpi
    with pytest.raises(EngineError):
        open_page(path, document, 7)


def test_tiff_frames_are_read_by_index(tmp_path: Path) -> None:
    frames = [render_page([[str(n)]], size=(200 + n, 100)) for n in range(3)]
    path = tmp_path / "scan.tif"
    path.write_bytes(multipage_tiff(frames))
    document = sniff_document(path)
    assert [open_page(path, document, n).width for n in range(3)] == [200, 201, 202]
