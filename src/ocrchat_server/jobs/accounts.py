"""Accounts as the API shows them: who a token belongs to, and what it has used; the
account's tokens, and the web app's sessions signed in with them."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from ocrchat.models import Account as AccountView
from ocrchat.models import AccountCaps, AccountCosts, AccountResets, AccountUsage
from ocrchat_server.jobs.errors import (
    InvalidRequestError,
    PlanNotConfiguredError,
    TooManyTokensError,
)
from ocrchat_server.jobs.metering import Periods
from ocrchat_server.jobs.plans import PlansError
from ocrchat_server.jobs.webhooks import WebhookUrlError, check_webhook_url

if TYPE_CHECKING:
    from ocrchat.models import ApiToken, NewApiToken
    from ocrchat_server.jobs.interfaces import AccountDirectory, ChargesLedger, WebhookLedger
    from ocrchat_server.jobs.plans import Plan, Plans
    from ocrchat_server.jobs.records import Account, Clock, WebSession

log = logging.getLogger(__name__)

MAX_TOKENS = 50
"""The most API tokens one account may hold at once."""


class AccountService:
    def __init__(
        self,
        *,
        accounts: AccountDirectory,
        charges: ChargesLedger,
        webhooks: WebhookLedger,
        plans: Plans,
        clock: Clock,
        webhook_private_addresses: bool = False,
        web_session_ttl: dt.timedelta = dt.timedelta(hours=12),
    ) -> None:
        self.accounts = accounts
        self.charges = charges
        self.webhooks = webhooks
        self.plans = plans
        self.clock = clock
        self.webhook_private_addresses = webhook_private_addresses
        self.web_session_ttl = web_session_ttl
        """How long a web session lasts from sign-in."""

    async def rotate_webhook_secret(self, account: Account) -> None:
        """A new signing key; deliveries from now on are signed with it alone."""
        await asyncio.to_thread(self.webhooks.rotate_webhook_secret, account.id)

    async def set_webhook_url(self, account: Account, url: str | None) -> None:
        """The account's default webhook (None: none), checked as a submit's is."""
        if url is not None:
            try:
                await check_webhook_url(url, allow_private_addresses=self.webhook_private_addresses)
            except WebhookUrlError as exc:
                raise InvalidRequestError(str(exc), code="invalid_webhook_url") from exc
        await asyncio.to_thread(self.webhooks.set_webhook_url, account.id, url)

    def authenticate(self, token: str) -> Account | None:
        return self.accounts.authenticate(token)

    # The calls below reach the records: callers on the event loop run them in a thread.

    def tokens(self, account: Account) -> list[ApiToken]:
        """The account's API tokens, newest first (key ids and times: never a secret)."""
        return self.accounts.tokens(account.id)

    def create_token(self, account: Account) -> NewApiToken:
        """A new API token for the account: the only time it is seen. Raises
        ``TooManyTokensError`` when the account holds ``MAX_TOKENS`` already (a token that
        makes tokens in a loop would otherwise fill the records)."""
        if len(self.accounts.tokens(account.id)) >= MAX_TOKENS:
            raise TooManyTokensError(MAX_TOKENS)
        return self.accounts.add_token(account.id)

    def revoke_token(self, account: Account, key_id: str) -> None:
        """The token stops working at once, and the web sessions signed in with it end.
        Raises ``TokenNotFoundError`` (no such token of this account) and
        ``LastTokenError`` (it is the account's only one)."""
        self.accounts.revoke_token(account.id, key_id)

    def start_web_session(self, account: Account, key_id: str) -> tuple[str, WebSession]:
        """Sign a browser in with the account's token ``key_id`` for ``web_session_ttl``;
        returns the session's id (its cookie, seen only now) and the session. Raises
        ``TokenNotFoundError`` when the account has no such token."""
        expires_at = self.clock() + self.web_session_ttl
        return self.accounts.create_web_session(account.id, key_id, expires_at)

    def web_session(self, session_id: str) -> tuple[Account, WebSession] | None:
        """The session's account and the session; None when it is unknown, has expired,
        or its token was revoked."""
        return self.accounts.web_session(session_id, self.clock())

    def end_web_session(self, session_id: str) -> None:
        self.accounts.end_web_session(session_id)

    def expire_web_sessions(self) -> int:
        """Delete the sessions that have expired; returns how many."""
        return self.accounts.expire_web_sessions(self.clock())

    def plan_of(self, account: Account) -> Plan:
        try:
            return self.plans.get(account.plan)
        except PlansError as exc:
            # an operator's slip (a plans file left out at restart), not the caller's
            log.error(
                "account %s is on plan %r, which is not configured", account.name, account.plan
            )
            raise PlanNotConfiguredError(
                f"Your account's plan {account.plan!r} is not configured on this server."
            ) from exc

    def view(self, account: Account) -> AccountView:
        plan = self.plan_of(account)
        usage = self.charges.usage(account.id)
        periods = Periods.at(self.clock())
        return AccountView(
            name=account.name,
            created_at=account.created_at,
            plan=plan.name,
            usage=AccountUsage(day=usage.day, month=usage.month),
            caps=AccountCaps(
                day=plan.daily, month=plan.monthly, pages_per_file=plan.pages_per_file
            ),
            credits=usage.credits,
            resets=AccountResets(day=periods.next_day, month=periods.next_month),
            costs=AccountCosts(cpu=self.plans.costs["cpu"], vlm=self.plans.costs["vlm"]),
            priority=plan.priority,
            webhook_url=account.webhook_url,
            webhook_secret=self.webhooks.webhook_secret(account.id),
        )
