"""Plans and page costs: built-in defaults, overridable by a TOML file (``--plans``).

    default_plan = "free"        # what new accounts get

    [costs]                      # credits per page, by tier
    cpu = 1
    vlm = 3

    [plans.free]
    daily = 50                   # credits a UTC day; leave out for no daily limit
    monthly = 500                # credits a UTC calendar month
    pages_per_file = 20
    priority = 0                 # higher is taken from the queue first

    [plans.team]                 # any plan the file adds
    monthly = 5000
    pages_per_file = 500
    priority = 5

A plan in the file replaces the built-in plan of that name. Allowances count
credits, so a cpu page takes 1 of them and a vlm page 3.
"""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING, Any

import attrs

from ocrchat.models import Tier
from ocrchat_server.engines.tiers import TIER_ENGINES

if TYPE_CHECKING:
    from pathlib import Path


class PlansError(ValueError):
    """The plans file is wrong; the message says where."""


@attrs.frozen
class Plan:
    name: str
    daily: int | None
    monthly: int | None
    pages_per_file: int
    priority: int = 0


BUILT_IN_PLANS = {
    "free": Plan("free", daily=50, monthly=500, pages_per_file=20, priority=0),
    "pro": Plan("pro", daily=None, monthly=50_000, pages_per_file=2000, priority=10),
}
BUILT_IN_COSTS = {tier.value: entry.page_cost for tier, entry in TIER_ENGINES.items()}


@attrs.frozen
class Plans:
    plans: dict[str, Plan] = attrs.field(factory=lambda: dict(BUILT_IN_PLANS))
    costs: dict[str, int] = attrs.field(factory=lambda: dict(BUILT_IN_COSTS))
    default_plan: str = "free"

    def get(self, name: str) -> Plan:
        try:
            return self.plans[name]
        except KeyError:
            known = ", ".join(sorted(self.plans))
            raise PlansError(f"no plan named {name!r} (plans: {known})") from None

    def cost(self, tier: Tier, pages: int) -> int:
        return self.costs[tier] * pages

    @classmethod
    def load(cls, path: Path | None) -> Plans:
        """The built-in plans, with ``path``'s plans and costs over them."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PlansError(f"{path}: {exc}") from exc
        plans = dict(BUILT_IN_PLANS)
        for name, table in data.get("plans", {}).items():
            plans[name] = _plan(path, name, table)
        costs = dict(BUILT_IN_COSTS)
        for tier, cost in data.get("costs", {}).items():
            if tier not in BUILT_IN_COSTS or not isinstance(cost, int) or cost < 1:
                tiers = " or ".join(BUILT_IN_COSTS)
                raise PlansError(f"{path}: costs.{tier} must be {tiers}, a whole number >= 1")
            costs[tier] = cost
        default = data.get("default_plan", "free")
        if default not in plans:
            raise PlansError(f"{path}: default_plan {default!r} is not a plan")
        unknown = set(data) - {"plans", "costs", "default_plan"}
        if unknown:
            raise PlansError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
        return cls(plans=plans, costs=costs, default_plan=default)


def _plan(path: Path, name: str, table: Any) -> Plan:
    if not isinstance(table, dict):
        raise PlansError(f"{path}: plans.{name} must be a table")
    allowed = {"daily", "monthly", "pages_per_file", "priority"}
    if unknown := set(table) - allowed:
        raise PlansError(f"{path}: plans.{name} has unknown keys {', '.join(sorted(unknown))}")
    for key in allowed & set(table):
        value = table[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PlansError(f"{path}: plans.{name}.{key} must be a whole number >= 0")
    if "pages_per_file" not in table:
        raise PlansError(f"{path}: plans.{name} needs pages_per_file")
    return Plan(
        name=name,
        daily=table.get("daily"),
        monthly=table.get("monthly"),
        pages_per_file=table["pages_per_file"],
        priority=table.get("priority", 0),
    )
