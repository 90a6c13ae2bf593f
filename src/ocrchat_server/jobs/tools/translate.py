"""``translate``: the text and Markdown translated by the configured language model, the
original kept beside it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import attrs

from ocrchat_server.engines.base import EngineError
from ocrchat_server.engines.translation import (
    TargetLanguage,
    Translator,
    UnknownTargetError,
    markdown_text,
    target_language,
)
from ocrchat_server.jobs.errors import InvalidRequestError, UnsupportedLanguageError
from ocrchat_server.jobs.tools.base import (
    FinishedPages,
    ServerAbilities,
    ToolPreset,
    ToolRequest,
    ToolStatus,
)

if TYPE_CHECKING:
    from ocrchat.models import Page
    from ocrchat_server.jobs.records import JobRecord

TRANSLATOR_NOT_CONFIGURED = (
    "The translate tool needs a language model: start ocrchat-server with --llm-url "
    "(an OpenAI-compatible endpoint) and --llm-model."
)
_TRANSLATION_THREADS = 4
"""Pages sent to the language model at once."""


def _check(request: ToolRequest) -> None:
    if not request.translate_to:
        raise InvalidRequestError(
            "The translate tool needs translate_to, e.g. de.", code="missing_translate_to"
        )
    try:
        target_language(request.translate_to)
    except UnknownTargetError as exc:
        raise UnsupportedLanguageError(
            f"Unknown translate_to {request.translate_to!r}: use an ISO 639-1 code "
            "such as en, de or zh.",
            language=request.translate_to,
        ) from exc
    if not request.translator:
        raise InvalidRequestError(TRANSLATOR_NOT_CONFIGURED, code="translator_not_configured")


def _status(abilities: ServerAbilities) -> ToolStatus:
    if abilities.translator:
        return ToolStatus(ready=True)
    return ToolStatus(ready=False, detail=TRANSLATOR_NOT_CONFIGURED)


def translate_pages(
    translator: Translator, pages: list[Page], target: TargetLanguage
) -> list[Page]:
    """Every page translated, a few at a time; each keeps its original text and Markdown."""

    def translate(page: Page) -> Page:
        original = page.markdown or page.text
        translated = translator.translate(original, target)
        return attrs.evolve(
            page,
            text=markdown_text(translated),
            markdown=translated,
            original_text=page.text,
            original_markdown=original,
        )

    with ThreadPoolExecutor(max_workers=_TRANSLATION_THREADS) as pool:
        return list(pool.map(translate, pages))


def _finish(pages: list[Page], record: JobRecord, translator: Translator | None) -> FinishedPages:
    if not record.translate_to:
        return FinishedPages(pages)
    if translator is None:
        raise EngineError("No translator is configured on this server any more.")
    target = target_language(record.translate_to)
    return FinishedPages(translate_pages(translator, pages, target), record.translate_to)


TOOL = ToolPreset(
    slug="translate",
    description=(
        "The OCR text and Markdown translated into translate_to by the configured "
        "language model; the original is kept beside it."
    ),
    needs="translate_to",
    check=_check,
    status=_status,
    finish=_finish,
)
