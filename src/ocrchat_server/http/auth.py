"""Who is calling: a Bearer header or ``?api_token=``, checked against hashed tokens; or,
for the web app's own requests, its session cookie.

A cookie is sent by the browser on its own, so a request it authenticates may have been
started by another site: every such request that changes something must also carry the
session's CSRF token in ``X-CSRF-Token``, which only the app's own pages can read.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from ocrchat_server.http.errors import HttpError

if TYPE_CHECKING:
    from starlette.requests import Request

    from ocrchat_server.jobs.accounts import AccountService
    from ocrchat_server.jobs.records import Account

SESSION_COOKIE = "ocrchat_session"
"""The web app's session cookie: a random id, of which the server keeps only a hash."""
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.query_params.get("api_token") or None


def same_token(presented: object, expected: str | None) -> bool:
    """Whether a presented CSRF token (a header's or a form field's) is the expected one,
    in constant time."""
    return (
        isinstance(presented, str)
        and bool(expected)
        and hmac.compare_digest(presented.encode(), (expected or "").encode())
    )


def session_account(request: Request, accounts: AccountService) -> Account | None:
    """The account of the request's web session (None: no cookie, or one that has ended).
    Refuses (403 ``csrf_failed``) a request that changes something without the session's
    CSRF token."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    found = accounts.web_session(session_id)
    if found is None:
        return None
    account, session = found
    if request.method not in SAFE_METHODS and not same_token(
        request.headers.get(CSRF_HEADER), session.csrf_token
    ):
        raise HttpError(
            403,
            "csrf_failed",
            f"A request signed in with the web app's cookie needs its {CSRF_HEADER} header.",
        )
    return account


def require_account(request: Request, accounts: AccountService) -> Account:
    token = presented_token(request)
    if token is None:
        account = session_account(request, accounts)
        if account is not None:
            return account
        raise HttpError(
            401,
            "missing_token",
            "Send your API token as 'Authorization: Bearer <token>' or ?api_token=<token>.",
        )
    account = accounts.authenticate(token)
    if account is None:
        raise HttpError(401, "invalid_token", "The API token is not valid.")
    return account
