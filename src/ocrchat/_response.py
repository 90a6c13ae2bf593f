"""``client.with_raw_response``: the clients' calls, returning the ``APIResponse``.

The methods are the clients' own, run by a copy of the client that returns the
``APIResponse`` instead of its parsed body (``_result`` in the clients); the two
namespaces here only give them their types, each method's own parameters and
``APIResponse[<what it returns>]``, as openai-python's ``to_raw_response_wrapper`` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    import httpx

    from ocrchat._async_client import AsyncClient
    from ocrchat._sync_client import Client

__all__ = [
    "REQUEST_ID_HEADER",
    "APIResponse",
    "AsyncClientWithRawResponse",
    "ClientWithRawResponse",
]

T = TypeVar("T")
P = ParamSpec("P")

REQUEST_ID_HEADER = "X-Request-ID"
"""The header that carries the server's id for a request (``APIResponse.request_id``)."""


class APIResponse(Generic[T]):
    """The HTTP answer to one call as it came (status, headers, the ``httpx.Response``),
    and ``parse()`` for what the plain method returns.

    ``client.with_raw_response.<method>(...)`` returns it. Its body is already read (a
    download to a path: already in the file), so ``parse()`` is a plain call on either
    client. An error status raises as the plain method does, before there is a response
    to return; ``parse()`` raises ``ocrchat.APIResponseValidationError`` when the body is
    not what the API sends.
    """

    def __init__(self, http_response: httpx.Response, parse: Callable[[httpx.Response], T]):
        self.http_response = http_response
        """The ``httpx.Response`` itself, its body already read."""
        self._parse = parse
        self._parsed: tuple[T] | None = None

    @property
    def status_code(self) -> int:
        """The HTTP status: a success (2xx), since an error status raises instead."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response's headers (``httpx.Headers``: names match whatever their case)."""
        return self.http_response.headers

    @property
    def request_id(self) -> str | None:
        """The server's ``X-Request-ID`` for this request: quote it when reporting a problem."""
        found: str | None = self.http_response.headers.get(REQUEST_ID_HEADER)
        return found

    def parse(self) -> T:
        """The typed result (a ``Job``, ``bytes``, ...), what the plain method returns:
        parsed on the first call, the same object after."""
        if self._parsed is None:
            self._parsed = (self._parse(self.http_response),)
        return self._parsed[0]

    def __repr__(self) -> str:
        request = self.http_response.request
        return (
            f"<APIResponse [{self.status_code} {self.http_response.reason_phrase}]"
            f" {request.method} {request.url}>"
        )


def _raw(method: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    return cast("Callable[P, APIResponse[T]]", method)


def _raw_async(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    return cast("Callable[P, Awaitable[APIResponse[T]]]", method)


class ClientWithRawResponse:
    """``Client.with_raw_response``: the same calls, each answering the ``APIResponse``.

    Only the calls of one request are here (not ``ocr``, ``poll``, ``jobs`` and
    ``list_jobs``).
    """

    def __init__(self, raw: Client) -> None:
        """``raw``: a copy of the client whose calls return the APIResponse."""
        self.submit = _raw(raw.submit)
        """``Client.submit``, answering ``APIResponse[Job]``."""
        self.get = _raw(raw.get)
        """``Client.get``, answering ``APIResponse[Job]``."""
        self.download = _raw(raw.download)
        """``Client.download``, answering ``APIResponse[bytes]`` (with ``path``,
        ``APIResponse[Path]``)."""
        self.chat = _raw(raw.chat)
        """``Client.chat``, answering ``APIResponse[ChatReply]``."""
        self.history = _raw(raw.history)
        """``Client.history``, answering ``APIResponse[History]``."""
        self.account = _raw(raw.account)
        """``Client.account``, answering ``APIResponse[Account]``."""
        self.tools = _raw(raw.tools)
        """``Client.tools``, answering ``APIResponse[Tools]``."""
        self.engines = _raw(raw.engines)
        """``Client.engines``, answering ``APIResponse[Engines]``."""
        self.delete = _raw(raw.delete)
        """``Client.delete``, answering ``APIResponse[DeletedJob]``."""


class AsyncClientWithRawResponse:
    """``AsyncClient.with_raw_response``: the same calls, each answering the ``APIResponse``.

    Only the calls of one request are here (not ``ocr``, ``poll``, ``jobs`` and
    ``list_jobs``).
    """

    def __init__(self, raw: AsyncClient) -> None:
        """``raw``: a copy of the client whose calls return the APIResponse."""
        self.submit = _raw_async(raw.submit)
        """``AsyncClient.submit``, answering ``APIResponse[Job]``."""
        self.get = _raw_async(raw.get)
        """``AsyncClient.get``, answering ``APIResponse[Job]``."""
        self.download = _raw_async(raw.download)
        """``AsyncClient.download``, answering ``APIResponse[bytes]`` (with ``path``,
        ``APIResponse[Path]``)."""
        self.chat = _raw_async(raw.chat)
        """``AsyncClient.chat``, answering ``APIResponse[ChatReply]``."""
        self.history = _raw_async(raw.history)
        """``AsyncClient.history``, answering ``APIResponse[History]``."""
        self.account = _raw_async(raw.account)
        """``AsyncClient.account``, answering ``APIResponse[Account]``."""
        self.tools = _raw_async(raw.tools)
        """``AsyncClient.tools``, answering ``APIResponse[Tools]``."""
        self.engines = _raw_async(raw.engines)
        """``AsyncClient.engines``, answering ``APIResponse[Engines]``."""
        self.delete = _raw_async(raw.delete)
        """``AsyncClient.delete``, answering ``APIResponse[DeletedJob]``."""
