"""The efficiency-regression alert (kind ``unit_cost``) and the run that raises it through the cost monitor's
episodes and publish-once path.

Episodes are ``core.episodes``' (one alert per ongoing regression, another on escalation), stored beside the cost
monitor's under ``dedup#cost`` with the series ``<team>|unit:<model>/<unit>``, and the dedup key is a ``CostKey``:
so the Slack buttons that act on an anomaly episode (Acknowledge, Snooze, It was planned) act on this one the same
way (``interact.buttons``), and the state write happens only once the alert went out (``core.publish``). Unit-cost
days come from the bill, which is final: an episode is never raised on estimated data, so never retracted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from costwarden.core import episodes
from costwarden.core.alerts import build
from costwarden.core.keys import CostKey
from costwarden.core.money import usd
from costwarden.core.publish import Outcome, send_once
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.ports import Publisher, StateStore
from costwarden.settings import UnitCostSettings
from costwarden.unitcost.regressions import KEYS, Detector, Regression, find, unit_words

#: The publish-once records of unit-cost alerts (sk: the dedup key).
SENT_PK = "dedup#unitcost-sent"
DEDUP_TTL_DAYS = 120


def per_unit(amount: float, unit: str) -> str:
    """``$0.84 per 1k predictions`` (cents: unit costs are small)."""
    return f"{usd(amount, cents=True)} per {unit_words(unit)}"


def regression_event(action: episodes.Action, regression: Regression) -> AlertEvent:
    """The alert for an episode's alert or escalation: the headline names what moved and why, the figures the
    unit cost, its usual, the traffic and the instances before and now."""
    severity = Severity(regression.severity)
    escalated = action.kind == "escalate"
    r = regression
    figures = {
        "Cost": per_unit(r.usd_per_unit, r.unit),
        "Usual": per_unit(r.baseline_usd, r.unit),
        "Extra": f"+{per_unit(r.usd_per_unit - r.baseline_usd, r.unit)}",
        "Ratio": f"{r.ratio:.2f}x",
        "Traffic": f"{r.denominator:,.0f} (usual {r.denominator_baseline:,.0f})",
        "Spend": usd(r.spend_usd),
        "Instances": f"{r.types_before or '-'} -> {r.types_now or '-'}",
    }
    return build(
        AlertKind.UNIT_COST,
        severity,
        r.team,
        CostKey(action.series, r.date, severity.value),
        title=f"{r.team}: {r.headline}" + (" (escalated)" if escalated else ""),
        summary=(
            f"On {r.date} {r.model} cost {per_unit(r.usd_per_unit, r.unit)} against a usual "
            f"{per_unit(r.baseline_usd, r.unit)} ({r.ratio:.1f}x), {r.traffic}: {r.cause}."
        ),
        figures=figures,
        extra={"unit_cost": r.to_dict()},
    )


@dataclass
class RegressionRun:
    """What one judgement found and sent."""

    regressions: list[Regression] = field(default_factory=list)
    events: list[AlertEvent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def raise_regressions(
    daily: pd.DataFrame,
    settings: UnitCostSettings,
    detector: Detector,
    *,
    store: StateStore,
    publish: Publisher,
    now: datetime,
    judge_from: str | None = None,
) -> RegressionRun:
    """Find the regressions (days from ``judge_from``), advance their episodes, publish each alert once and
    remember the episode only once its alert went out."""
    run = RegressionRun(regressions=[r for r in find(daily, settings, detector) if r.date >= (judge_from or "")])
    if not run.regressions:
        return run
    by_key = {(r.series, r.date): r for r in run.regressions}
    findings = pd.DataFrame(
        [
            {"date": r.date, "team": r.team, "series": r.series, "severity": r.severity, "estimated": False}
            | {"cost_usd": r.usd_per_unit, "baseline_usd": r.baseline_usd, "ratio": r.ratio}
            for r in run.regressions
        ]
    )
    old = episodes.load_state(store.query(episodes.DEDUP_PK))
    judged = dict.fromkeys(sorted({r.date for r in run.regressions}), False)
    state, actions = episodes.advance(old, findings, judged, list(KEYS))
    alerted = set()
    for action in actions:
        team, _, series = action.series.partition("|")
        event = regression_event(action, by_key[(series, str(action.finding["date"]))])
        once = send_once(
            event, key=(SENT_PK, event.dedup_key), store=store, publish=publish, ttl_days=DEDUP_TTL_DAYS, now=now
        )
        if once.error is not None:
            run.errors.append(f"unit_cost {team}: {type(once.error).__name__}: {once.error}")
            continue
        alerted.add(action.series)
        if once.outcome is not Outcome.IN_PROGRESS:
            store.put(episodes.DEDUP_PK, action.series, state[action.series], ttl_days=DEDUP_TTL_DAYS)
        if once.sent:
            run.events.append(event)
    failed = {a.series for a in actions} - alerted
    for sid, item in episodes.changed(old, state).items():
        if sid not in alerted and sid not in failed:  # an ongoing episode's newest day: no publish needed
            store.put(episodes.DEDUP_PK, sid, item, ttl_days=DEDUP_TTL_DAYS)
    return run


def regressions_of(events: Sequence[AlertEvent]) -> list[dict[str, object]]:
    """The regressions the events carry (for the report and digest sections)."""
    return [dict(e.details["unit_cost"]) for e in events if isinstance(e.details.get("unit_cost"), dict)]
