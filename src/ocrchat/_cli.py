"""The ``ocrchat`` command. Its subcommands arrive with the SDK clients (issue 3)."""

from __future__ import annotations

import click

from ocrchat._version import __version__


@click.group()
@click.version_option(__version__, prog_name="ocrchat")
def main() -> None:
    """OCR documents and chat with them, on ocr.chat or your own server."""
