"""Accounts as the API shows them: who a token belongs to, and what it has used."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ocrchat.models import Account as AccountView
from ocrchat_server.jobs.errors import PlanNotConfiguredError
from ocrchat_server.jobs.metering import Periods
from ocrchat_server.jobs.plans import PlansError

if TYPE_CHECKING:
    from ocrchat_server.jobs.interfaces import AccountDirectory, ChargesLedger
    from ocrchat_server.jobs.plans import Plan, Plans
    from ocrchat_server.jobs.records import Account, Clock

log = logging.getLogger(__name__)


class AccountService:
    def __init__(
        self, *, accounts: AccountDirectory, charges: ChargesLedger, plans: Plans, clock: Clock
    ) -> None:
        self.accounts = accounts
        self.charges = charges
        self.plans = plans
        self.clock = clock

    def authenticate(self, token: str) -> Account | None:
        return self.accounts.authenticate(token)

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
            usage={"day": usage.day, "month": usage.month},
            caps={"day": plan.daily, "month": plan.monthly, "pages_per_file": plan.pages_per_file},
            credits=usage.credits,
            resets={"day": periods.next_day, "month": periods.next_month},
            costs=dict(self.plans.costs),
            priority=plan.priority,
        )
