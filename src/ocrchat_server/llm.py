"""An OpenAI-compatible chat-completions endpoint: what chat and the translate tool ask.

One client for both, so they fail the same way: an endpoint that cannot be
reached is a 502, one that does not answer in time a 504, and an answer we
cannot read a 502, each with a message that names the problem.
"""

from __future__ import annotations

import attrs
import httpx

from ocrchat_server.errors import ApiError


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
            raise ApiError(
                504, "llm_timeout", "The language model did not answer in time."
            ) from exc
        except httpx.TransportError as exc:
            raise ApiError(
                502, "llm_unreachable", "The language model endpoint could not be reached."
            ) from exc
        if response.status_code != 200:
            raise ApiError(
                502, "llm_error", f"The language model endpoint answered {response.status_code}."
            )
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ApiError(
                502, "llm_error", "The language model endpoint sent an answer we cannot read."
            ) from exc
        return str(content or "")
