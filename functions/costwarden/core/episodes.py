"""Episodes, not spam: one alert per ongoing anomaly, another on escalation, a retraction when estimated data
that raised an alert no longer breaches once Cost Explorer calls the day final.

State lives in the state table under ``dedup#cost`` (one item per series; sk ``<team>|<second key>``):
``{"severity", "start", "last", "alert_date", "alert_estimated", "retracted", "impacts"}`` (``impacts``: the
extra spend of each breaching day, day -> USD, so an alert can say what the episode has cost so far), plus what was
done from Slack (issue 13: ``acknowledged_by``/``_at``, ``snoozed_by``, ``planned_by``, and ``quiet``: escalations
of a snoozed or planned episode are recorded, not sent). An episode stays open while the series keeps breaching
with gaps of at most ``gap_days`` (3: a weekend lull inside a runaway week is the same story); after that, the
next breach is a new episode and alerts again.

Everything here is pure: ``advance`` takes the stored state, this run's findings and the days judged, and returns
the new state plus the actions to publish. The handler loads and saves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # annotations only: the Slack endpoint (light bundle, no pandas) imports this module
    import pandas as pd

DEDUP_PK = "dedup#cost"
SEVERITY_RANK = {"warning": 1, "critical": 2}
DEFAULT_GAP_DAYS = 3

ActionKind = Literal["alert", "escalate", "retract"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    series: str
    finding: dict[str, Any]
    """The finding that raised it (for a retraction: the day's final figures, severity ``info``)."""
    previous: Mapping[str, Any] = field(default_factory=dict)


def series_id(team: str, second: str | None = None) -> str:
    return f"{team}|{second or ''}"


def _figures(record: Mapping[str, Any]) -> dict[str, float]:
    """The alerted numbers, kept so a retraction can say what it takes back."""
    return {k: float(record[k]) for k in ("cost_usd", "baseline_usd", "ratio") if k in record}


def _impact(record: Mapping[str, Any]) -> dict[str, float]:
    """The breaching day's extra spend (none when the finding does not carry one)."""
    value = record.get("impact_usd")
    try:
        return {str(record["date"]): round(float(value), 2)} if value is not None else {}
    except (TypeError, ValueError):
        return {}


@dataclass(frozen=True)
class Story:
    """An episode so far, as its alert tells it: since when, for how many days, how much extra in all."""

    start: str
    days: int
    extra_usd: float
    breach_days: int


def story(item: Mapping[str, Any], day: str) -> Story:
    """The episode ``item`` (a state item) seen from ``day``: its start, the days since (both counted), and the sum
    of its breaching days' extra spend (up to ``day``)."""
    start = str(item.get("start") or day)
    impacts = {d: float(v) for d, v in dict(item.get("impacts") or {}).items() if str(d) <= day}
    return Story(start, _gap(start, day) + 1, round(sum(impacts.values()), 2), len(impacts))


def _gap(a: str, b: str) -> int:
    return (date.fromisoformat(b) - date.fromisoformat(a)).days


def advance(
    state: Mapping[str, Mapping[str, Any]],
    findings: pd.DataFrame,
    judged_days: Mapping[str, bool],
    keys: Sequence[str],
    *,
    final_values: Mapping[tuple[str, str], dict[str, Any]] | None = None,
    gap_days: int = DEFAULT_GAP_DAYS,
) -> tuple[dict[str, dict[str, Any]], list[Action]]:
    """New state and the actions to take.

    ``judged_days`` maps each day judged this run to whether it is still estimated. ``final_values`` optionally
    gives, per (series, day), the day's final figures for the retraction message.
    """
    new_state = {sid: dict(item) for sid, item in state.items()}
    actions: list[Action] = []
    records = findings.to_dict("records") if not findings.empty else []
    records.sort(key=lambda r: str(r["date"]))
    breached: set[tuple[str, str]] = set()
    for record in records:
        sid = series_id(str(record[keys[0]]), str(record[keys[1]]) if len(keys) > 1 else None)
        day = str(record["date"])
        breached.add((sid, day))
        current = new_state.get(sid)
        estimated = bool(record.get("estimated", False))
        open_episode = (
            current is not None
            and not current.get("retracted", False)
            and 0 <= _gap(str(current["last"]), day) <= gap_days
        )
        if current is not None and _gap(str(current["last"]), day) < 0:
            continue  # an older day re-judged: the episode already covers it
        if not open_episode:
            new_state[sid] = {
                "severity": record["severity"],
                "start": day,
                "last": day,
                "alert_date": day,
                "alert_estimated": estimated,
                "retracted": False,
                "impacts": _impact(record),
                **_figures(record),
            }
            actions.append(Action("alert", sid, record))
            continue
        assert current is not None
        previous = dict(current)
        current = dict(current)
        current["last"] = day
        current["impacts"] = {**dict(current.get("impacts") or {}), **_impact(record)}
        if SEVERITY_RANK.get(str(record["severity"]), 0) > SEVERITY_RANK.get(str(current["severity"]), 0):
            current.update(severity=record["severity"], alert_date=day, alert_estimated=estimated, **_figures(record))
            if not current.get("quiet"):  # snoozed or declared planned from Slack (issue 13): no escalation
                actions.append(Action("escalate", sid, record, previous))
        new_state[sid] = current

    # Alerts raised on estimated data: once the day is final, confirm it or retract it.
    for sid, item in list(new_state.items()):
        if not item.get("alert_estimated") or item.get("retracted"):
            continue
        alert_day = str(item["alert_date"])
        if judged_days.get(alert_day, True):
            continue  # not judged this run, or still estimated
        if (sid, alert_day) in breached:
            new_state[sid] = {**item, "alert_estimated": False}
            continue
        figures = dict((final_values or {}).get((sid, alert_day), {}))
        figures.update(date=alert_day, severity="info")
        new_state[sid] = {**item, "retracted": True, "alert_estimated": False}
        actions.append(Action("retract", sid, figures, item))
    return new_state, actions


def load_state(items: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """State items from ``StateStore.query(DEDUP_PK)`` keyed by series id."""
    return {str(item["sk"]): {k: v for k, v in item.items() if k not in {"pk", "sk", "expiration"}} for item in items}


def changed(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The state items to write back (new or different)."""
    return {sid: dict(item) for sid, item in new.items() if dict(old.get(sid, {})) != dict(item)}


def join(
    current: Mapping[str, Any] | None,
    day: str,
    severity: str,
    figures: Mapping[str, float],
    *,
    gap_days: int = DEFAULT_GAP_DAYS,
) -> tuple[dict[str, Any], bool]:
    """The series' episode after a breach seen between daily runs (the burn guard) on ``day``, and whether an
    alert is due.

    The rule ``advance`` applies, once: an open episode (not retracted, last breach at most ``gap_days`` before)
    is joined (``last`` moves to ``day``) and alerts again only when ``severity`` is higher and it is not quiet
    (snoozed or declared planned); otherwise a new episode opens on ``day`` and alerts. The next morning the daily
    run finds this episode open on ``day``: the same breach is not a second alert.
    """
    open_episode = (
        current is not None and not current.get("retracted", False) and 0 <= _gap(str(current["last"]), day) <= gap_days
    )
    if not open_episode:
        record = {
            "severity": severity,
            "start": day,
            "last": day,
            "alert_date": day,
            "alert_estimated": False,
            "retracted": False,
        }
        return {**record, **{k: float(v) for k, v in figures.items()}}, True
    assert current is not None
    item = {**current, "last": max(str(current["last"]), day)}
    higher = SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(str(current.get("severity")), 0)
    if higher:
        item.update(
            severity=severity, alert_date=day, alert_estimated=False, **{k: float(v) for k, v in figures.items()}
        )
    return item, higher and not current.get("quiet")
