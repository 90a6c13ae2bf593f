"""Who is calling: a Bearer header or ``?api_token=``, checked against hashed tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocrchat_server.http.errors import HttpError

if TYPE_CHECKING:
    from starlette.requests import Request

    from ocrchat_server.jobs.accounts import AccountService
    from ocrchat_server.jobs.records import Account


def presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.query_params.get("api_token") or None


def require_account(request: Request, accounts: AccountService) -> Account:
    token = presented_token(request)
    if token is None:
        raise HttpError(
            401,
            "missing_token",
            "Send your API token as 'Authorization: Bearer <token>' or ?api_token=<token>.",
        )
    account = accounts.authenticate(token)
    if account is None:
        raise HttpError(401, "invalid_token", "The API token is not valid.")
    return account
