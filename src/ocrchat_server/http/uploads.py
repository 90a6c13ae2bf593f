"""Receiving the multipart upload: spooled, refused as soon as it is too large.

A declared ``Content-Length`` over the limit is refused before a byte is
read; a chunked or lying upload is cut off the moment the stream passes the
limit. Starlette's parser spools file parts to disk past 1 MB, so memory
stays flat whatever the upload's size; the jobs layer then stores the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import unicodedata
from http import HTTPStatus
from pathlib import PurePath, PureWindowsPath
from typing import TYPE_CHECKING, BinaryIO

import attrs
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from ocrchat_server.http.errors import HttpError, bad_request

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator

    from starlette.requests import Request

# Room for the multipart boundaries, part headers and the small form fields.
_FORM_OVERHEAD = 64 * 1024
_MAX_FILENAME = 255


class UploadTooLargeError(MultiPartException):
    """Raised from inside the parser's stream, so the parser closes its spooled files."""


class UploadStalledError(MultiPartException):
    """The client stopped sending its body (raised the same way)."""


@attrs.frozen
class ReceivedUpload:
    file: BinaryIO
    """The file part's bytes, from the start; open only inside ``receive_upload``."""
    filename: str | None
    fields: dict[str, str]
    size: int


def _too_large(limit: int) -> Exception:
    megabytes = limit / (1024 * 1024)
    return bad_request(
        "file_too_large", f"The file is larger than this server's limit of {megabytes:g} MB."
    )


def safe_filename(name: str | None) -> str | None:
    """The upload's name as it is kept and given back in downloads: its last path part,
    without control or invisible format characters (a NUL or LF once made every download
    of the job drop the connection: h11 refuses them in a header), whitespace runs made one
    space, at most 255 characters."""
    if not name:
        return None
    visible = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in name)
    # Browsers on Windows may send a whole path; keep only the last part.
    base = PurePath(PureWindowsPath(visible).name).name
    return " ".join(base.split())[:_MAX_FILENAME] or None


@contextlib.asynccontextmanager
async def receive_upload(
    request: Request, limit: int, *, idle_timeout: float | None = None
) -> AsyncIterator[ReceivedUpload]:
    """The ``file`` part and the other fields, while the block runs; the spooled file is
    gone after it. A body that sends nothing for ``idle_timeout`` seconds is answered 408
    (a client trickling an upload would otherwise hold its connection for ever)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise bad_request(
            "not_multipart", "Send the document as multipart/form-data with a 'file' field."
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise _too_large(limit)

    async def limited_stream() -> AsyncGenerator[bytes, None]:
        received = 0
        chunks = aiter(request.stream())
        while True:
            try:
                async with asyncio.timeout(idle_timeout):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise UploadStalledError("stalled") from None
            received += len(chunk)
            if received > limit + _FORM_OVERHEAD:
                raise UploadTooLargeError("too large")
            yield chunk

    parser = MultiPartParser(request.headers, limited_stream(), max_files=1, max_fields=32)
    try:
        form = await parser.parse()
    except UploadTooLargeError as exc:
        raise _too_large(limit) from exc
    except UploadStalledError as exc:
        raise HttpError(
            HTTPStatus.REQUEST_TIMEOUT,
            "upload_stalled",
            f"The upload sent nothing for {idle_timeout:g} seconds.",
        ) from exc
    except MultiPartException as exc:
        raise bad_request("invalid_form", f"The form could not be read: {exc.message}") from exc
    except ClientDisconnect as exc:
        raise bad_request("client_disconnected", "The upload was interrupted.") from exc

    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise bad_request(
                "missing_file", "Send the document in a multipart field named 'file'."
            )
        # the stream's limit left room for the form around the file: the file's own
        # size is held to the limit exactly
        size = file.size if file.size is not None else 0
        if size > limit:
            raise _too_large(limit)
        await file.seek(0)
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        yield ReceivedUpload(
            file=file.file, filename=safe_filename(file.filename), fields=fields, size=size
        )
    finally:
        with contextlib.suppress(Exception):
            await form.close()
