"""How a job is paid for: the plan's allowance first, then prepaid credits.

Pure decisions, no I/O: the store calls :func:`split_charge` inside the same
SQLite transaction that reads the usage and writes the charge, so two
requests can never both spend the last page.

Periods are UTC days and UTC calendar months; usage is the allowance spent
by charges made in the period (what credits paid does not count against it).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from ocrchat_server.jobs.plans import Plan


class AllowanceExceededError(Exception):
    """The request would go over a limit; nothing was charged."""

    def __init__(
        self,
        limit: str,
        used: int,
        cap: int,
        *,
        needed: int,
        resets_at: dt.datetime | None = None,
        credits: int = 0,
    ) -> None:
        super().__init__(limit)
        self.limit = limit
        self.used = used
        self.cap = cap
        self.needed = needed
        self.resets_at = resets_at
        self.credits = credits


@attrs.frozen
class Periods:
    day_start: dt.datetime
    month_start: dt.datetime
    next_day: dt.datetime
    next_month: dt.datetime

    @classmethod
    def at(cls, now: dt.datetime) -> Periods:
        day = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        return cls(
            day_start=day,
            month_start=month,
            next_day=day + dt.timedelta(days=1),
            next_month=next_month,
        )


@attrs.frozen
class Usage:
    day: int
    month: int
    credits: int


@attrs.frozen
class Charge:
    from_allowance: int
    from_credits: int


def split_refund(charged: Charge, amount: int | None) -> Charge:
    """What goes back of a job's charge when ``amount`` (all of it when None) is refunded:
    to the prepaid credits first, the rest to the allowance; never more than was taken."""
    total = charged.from_allowance + charged.from_credits
    back = total if amount is None else max(0, min(amount, total))
    to_credits = min(back, charged.from_credits)
    return Charge(from_allowance=back - to_credits, from_credits=to_credits)


def check_file(plan: Plan, pages: int) -> None:
    if pages > plan.pages_per_file:
        raise AllowanceExceededError("pages_per_file", pages, plan.pages_per_file, needed=pages)


def split_charge(cost: int, plan: Plan, usage: Usage, periods: Periods) -> Charge:
    """Take ``cost`` from what is left of the day's and month's allowance, the rest from
    credits; refuse the whole request (naming the binding limit) when that is not enough."""
    left: list[tuple[int, str, int, int | None, dt.datetime]] = []
    if plan.daily is not None:
        left.append((plan.daily - usage.day, "daily", usage.day, plan.daily, periods.next_day))
    if plan.monthly is not None:
        left.append(
            (plan.monthly - usage.month, "monthly", usage.month, plan.monthly, periods.next_month)
        )
    allowance = max(0, min((room for room, *_ in left), default=cost))
    from_allowance = min(cost, allowance)
    from_credits = cost - from_allowance
    if from_credits > usage.credits:
        _, limit, used, cap, resets_at = min(left, key=lambda entry: entry[0])
        assert cap is not None
        raise AllowanceExceededError(
            limit, used, cap, needed=cost, resets_at=resets_at, credits=usage.credits
        )
    return Charge(from_allowance=from_allowance, from_credits=from_credits)
