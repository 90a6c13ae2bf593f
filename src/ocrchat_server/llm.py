"""An OpenAI-compatible chat-completions endpoint: what chat and the translate tool ask.

One client for both, so they fail the same way: with a
:class:`LanguageModelUnavailableError` whose message names the problem (the
endpoint cannot be reached, does not answer in time, or answers what we
cannot read).
"""

from __future__ import annotations

import attrs
import httpx

from ocrchat_server.errors import ServiceError


class LanguageModelUnavailableError(ServiceError):
    """The language model endpoint cannot be reached, or gives no usable answer."""

    code = "llm_error"


class LanguageModelTimeoutError(LanguageModelUnavailableError):
    code = "llm_timeout"


@attrs.frozen
class ChatEndpoint:
    url: str
    """Base URL, e.g. ``http://127.0.0.1:8080/v1``; requests go to ``<url>/chat/completions``."""
    model: str
    api_key: str | None = attrs.field(default=None, repr=False)
    timeout: float = 60.0

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The model's reply to ``messages``, asked with temperature 0."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {"model": self.model, "messages": messages, "temperature": 0}
        try:
            with httpx.Client(timeout=self.timeout) as client:
                response = client.post(
                    f"{self.url.rstrip('/')}/chat/completions", json=body, headers=headers
                )
        except httpx.TimeoutException as exc:
            raise LanguageModelTimeoutError("The language model did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise LanguageModelUnavailableError(
                "The language model endpoint could not be reached.", code="llm_unreachable"
            ) from exc
        if response.status_code != 200:
            raise LanguageModelUnavailableError(
                f"The language model endpoint answered {response.status_code}."
            )
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LanguageModelUnavailableError(
                "The language model endpoint sent an answer we cannot read."
            ) from exc
        return str(content or "")
