"""Declared planned spend: ``/costwarden plan <team> <from> <to> <usd> <reason>`` and ``costwarden plan ...``.

A planned day is judged against its baseline plus the declared amount (spread evenly over the declared days): the
sweep everyone knew about does not page anyone, and an alert that still fires says it is "above the planned +X
USD". Stored in the state table under ``plan#<team>`` (sk ``<from>#<to>#<created>``), read by the cost monitor
through ``planned_extra``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

# The Slack endpoint (light bundle, no pandas) imports this module; only the cost monitor needs pandas, imported in
# adjust_findings.
if TYPE_CHECKING:
    import pandas as pd

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


def adjust_findings(
    findings: pd.DataFrame,
    team_column: str,
    plans_for: Callable[[str], list[dict[str, Any]]],
    *,
    warn_ratio: float,
    critical_ratio: float,
    min_impact_usd: float,
) -> pd.DataFrame:
    """Re-judge findings on planned days against baseline + the declared amount (the detection hook).

    Only teams with findings are looked up (``plans_for(team)``: one state-table query each). A finding whose day
    is planned keeps its z-score (planned spend only raises the bar) and gets ``planned_usd``; it is dropped when
    it no longer reaches ``warn_ratio`` and ``min_impact_usd`` over the raised baseline, and its severity follows
    the new ratio. Findings on unplanned days are returned unchanged.
    """
    import pandas as pd  # the cost monitor's bundle only

    if findings.empty:
        return findings
    plans = {team: plans_for(team) for team in sorted(set(map(str, findings[team_column])))}
    rows = []
    for record in findings.to_dict("records"):
        day = pd.Timestamp(record["date"]).date()
        extra = planned_extra(plans.get(str(record[team_column]), []), day)
        if extra <= 0:
            rows.append(record)
            continue
        baseline = float(record["baseline_usd"]) + extra
        impact = float(record["cost_usd"]) - baseline
        ratio = float(record["cost_usd"]) / baseline if baseline > 0 else float("inf")
        if ratio < warn_ratio or impact < min_impact_usd:
            continue
        record.update(
            baseline_usd=baseline,
            impact_usd=impact,
            ratio=ratio,
            planned_usd=round(extra, 2),
            severity="critical" if ratio >= critical_ratio else "warning",
        )
        rows.append(record)
    if not rows:
        return findings.iloc[0:0]
    return pd.DataFrame(rows).reindex(columns=[*findings.columns, "planned_usd"]).fillna({"planned_usd": 0.0})
