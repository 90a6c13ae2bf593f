"""ocrchat-server: the self-hostable OCR.chat API, Tesseract on the cpu tier."""

from ocrchat._version import __version__

__all__ = ["__version__"]
