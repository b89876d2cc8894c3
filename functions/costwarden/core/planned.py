"""Declared planned spend: ``/costwarden plan <team> <from> <to> <usd> <reason>`` and ``costwarden plan ...``.

A planned day is judged against its baseline plus the declared amount (spread evenly over the declared days): the
sweep everyone knew about does not page anyone, and an alert that still fires says it is "above the planned +X
USD". Stored in the state table under ``plan#<team>`` (sk ``<from>#<to>#<created>``), read by the cost monitor
through ``planned_extra``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from costwarden.models.ports import StateStore

PK_PREFIX = "plan#"
MAX_DAYS = 31
MAX_USD = 10_000_000.0
MAX_REASON_CHARS = 200
USAGE = "usage: plan <team> <from YYYY-MM-DD> <to YYYY-MM-DD> <usd> <reason...>"
#: Plans are kept this long after they end (the digest and audit read them).
TTL_DAYS_AFTER_END = 60


class PlanError(ValueError):
    """A malformed plan; the message names the argument and what was expected."""


@dataclass(frozen=True)
class Plan:
    team: str
    start: date
    end: date
    usd: float
    reason: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def per_day(self) -> float:
        return self.usd / self.days

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}#{self.end.isoformat()}"

    def describe(self) -> str:
        return (
            f"Planned spend for {self.team}: +{self.usd:,.0f} USD from {self.start} to {self.end} "
            f"({self.per_day:,.0f} USD/day): {self.reason}"
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "usd": self.usd,
            "reason": self.reason,
        }


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PlanError(f"<{name}> must be a date YYYY-MM-DD, got {value[:40]!r}; {USAGE}") from None


def parse_plan(args: Sequence[str]) -> Plan:
    """``["plan", team, from, to, usd, reason...]`` (the leading ``plan`` optional) → ``Plan`` or ``PlanError``."""
    words = list(args[1:] if args and args[0] == "plan" else args)
    if len(words) < 5:
        raise PlanError(USAGE)
    team, start_text, end_text, usd_text, *reason_words = words
    start, end = _day(start_text, "from"), _day(end_text, "to")
    if end < start:
        raise PlanError(f"<to> ({end}) is before <from> ({start})")
    if (end - start).days + 1 > MAX_DAYS:
        raise PlanError(f"a plan covers at most {MAX_DAYS} days, got {(end - start).days + 1}")
    try:
        usd = float(usd_text.replace(",", "").removesuffix("USD").removeprefix("$"))
    except ValueError:
        raise PlanError(f"<usd> must be a number of USD, got {usd_text[:40]!r}") from None
    if not math.isfinite(usd) or not 0 < usd <= MAX_USD:
        raise PlanError(f"<usd> must be above 0 and at most {MAX_USD:,.0f}, got {usd_text[:40]!r}")
    reason = " ".join(reason_words).strip()
    if not reason or len(reason) > MAX_REASON_CHARS or not reason.isprintable():
        raise PlanError(f"<reason> is required: printable text of at most {MAX_REASON_CHARS} characters")
    if not team.isprintable() or len(team) > 256:
        raise PlanError("<team> is the team tag value")
    return Plan(team, start, end, usd, reason)


def store(state: StateStore, plan: Plan, *, by: str, now: datetime) -> None:
    ttl = (plan.end - now.date()).days + TTL_DAYS_AFTER_END
    state.put(
        f"{PK_PREFIX}{plan.team}",
        f"{plan.key}#{now.isoformat()}",
        {**plan.to_item(), "by": by, "at": now.isoformat()},
        ttl_days=max(ttl, 1),
    )


def planned_extra(items: Iterable[Mapping[str, Any]], day: date) -> float:
    """The declared planned spend (USD) for ``day`` from a team's plan items (``state.query("plan#<team>")``)."""
    total = 0.0
    for item in items:
        start, end = date.fromisoformat(str(item["from"])), date.fromisoformat(str(item["to"]))
        if start <= day <= end:
            total += float(item["usd"]) / ((end - start).days + 1)
    return total


def plan_days(plan: Plan) -> list[date]:
    return [plan.start + timedelta(days=n) for n in range(plan.days)]
