"""The web app's sign-in: its session cookie, and the CSRF tokens its forms carry.

A session lives on the server (its hash, its account, the token signed in with, its CSRF
token, its expiry); the cookie holds only a random id, so signing out, or revoking the
token, ends it everywhere. Cookies are HttpOnly and SameSite=Strict, and Secure when the
request came over HTTPS (uvicorn takes the scheme from a trusted proxy's
X-Forwarded-Proto).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Literal, TypedDict

from ocrchat_server.http.auth import SESSION_COOKIE

if TYPE_CHECKING:
    import datetime as dt

    from starlette.requests import Request
    from starlette.responses import Response

SIGNIN_COOKIE = "ocrchat_signin"
"""Before there is a session, the sign-in form's CSRF token is checked against this cookie
(the double-submit pattern): a page of another site cannot read it to fill the form."""
CSRF_FIELD = "csrf"
_SIGNIN_SECONDS = 3600


class _Flags(TypedDict):
    httponly: bool
    samesite: Literal["strict"]
    secure: bool


def _flags(request: Request) -> _Flags:
    """Every cookie of the app's: out of scripts' reach, never sent by another site's
    request, and over HTTPS only when the browser came over HTTPS."""
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


def set_session_cookie(
    response: Response, request: Request, session_id: str, expires_at: dt.datetime
) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, expires=expires_at, path="/", **_flags(request))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", **_flags(request))


def new_signin_token() -> str:
    """A fresh CSRF token for the sign-in form (its hidden field and its cookie)."""
    return secrets.token_urlsafe(32)


def set_signin_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE, token, max_age=_SIGNIN_SECONDS, path="/signin", **_flags(request)
    )


def clear_signin_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SIGNIN_COOKIE, path="/signin", **_flags(request))
