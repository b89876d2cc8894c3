"""Efficiency regressions: a unit cost above its own baseline while its denominator is not falling; and a
denominator that stays at zero while cost continues (an idle finding).

The unit-cost series (one per model and unit, series id ``<team>|unit:<model>/<unit>``) go through the cost
monitor's own detector (``cost.detect.detect``, injected by the service: capabilities do not import each other):
the same robust, weekday-aware baseline, ratios (``unitcost.warn_ratio`` / ``critical_ratio``) and z-score. What
is added here is what makes a higher unit cost a regression rather than a quiet day: the day's denominator is not
below ``(1 - falling_share)`` x its own baseline (fewer requests sharing a fixed endpoint make every request dearer;
that is a traffic story, not an efficiency one) and the day's cost is at least ``min_daily_cost_usd``. The cause
is named where the bill shows it: the instance types the model's line items name on the day against those at the
start of the window ("the endpoint moved from ml.g5.xlarge to ml.g5.4xlarge on the 3rd").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from statistics import median
from typing import Any

import pandas as pd

from costwarden.core.keys import UNIT_COST_SERIES_PREFIX
from costwarden.settings import UnitCostSettings
from costwarden.unitcost import lines as cur
from costwarden.unitcost.compute import UnitCost

#: The detector's frame keys: team and the unit-cost series.
KEYS = ("team", "series")
#: ``detect(frame, keys) -> findings`` (``cost.detect.detect`` with the unit-cost parameters bound).
type Detector = Callable[[pd.DataFrame, Sequence[str]], pd.DataFrame]

_UNIT_WORDS = {"1k_inferences": "1k predictions", "training_run": "training run", "1m_tokens": "1M tokens"}


def unit_words(unit: str) -> str:
    """``1k_inferences`` -> ``1k predictions``; a custom unit's underscores as spaces (``1k transactions``)."""
    return _UNIT_WORDS.get(unit, unit.replace("_", " "))


def series_id(model: str, unit: str) -> str:
    """The detector's second key: never one of the cost monitor's (``unit:`` cannot start a tag value it groups)."""
    return f"{UNIT_COST_SERIES_PREFIX}{model}/{unit}"


def daily_frame(costs: Sequence[UnitCost]) -> pd.DataFrame:
    """One row per day, team, model and unit: the unit cost (``cost_usd``, what the detector reads), the day's
    spend, its denominator, whether the denominator was read, and the instance types the bill named."""
    rows = [
        {
            "date": c.period,
            "team": c.team,
            "model": c.model,
            "unit": c.unit,
            "series": series_id(c.model, c.unit),
            "cost_usd": c.usd_per_unit,
            "spend_usd": c.cost_usd or 0.0,
            "denominator": c.quantity,
            "read": "not read" not in c.note,
            "types": ",".join(c.instance_types),
        }
        for c in costs
        if len(c.period) == 10
    ]
    columns = ["date", "team", "model", "unit", "series", "cost_usd", "spend_usd", "denominator", "read", "types"]
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class Regression:
    """One unit cost above its baseline on one day, with what the denominator and the bill say."""

    date: str
    team: str
    model: str
    unit: str
    series: str
    usd_per_unit: float
    baseline_usd: float
    ratio: float
    severity: str
    spend_usd: float
    denominator: float
    denominator_baseline: float
    types_before: str
    types_now: str
    changed_on: str | None

    @property
    def traffic(self) -> str:
        """``traffic flat``, ``traffic up 40%``: what the denominator did against its own baseline."""
        if self.denominator_baseline <= 0:
            return "traffic new"
        change = self.denominator / self.denominator_baseline - 1
        return "traffic flat" if abs(change) < 0.1 else f"traffic {'up' if change > 0 else 'down'} {abs(change):.0%}"

    @property
    def cause(self) -> str:
        """The instance change the bill shows, or that none shows."""
        if self.changed_on and self.types_before != self.types_now:
            return f"the endpoint moved from {self.types_before} to {self.types_now} on the {ordinal(self.changed_on)}"
        return f"same instances ({self.types_now})" if self.types_now else "no instance change on the bill"

    @property
    def headline(self) -> str:
        """``cost per 1k predictions of fraud-v3 doubled: traffic flat, the endpoint moved from ... on the 3rd``."""
        return f"cost per {unit_words(self.unit)} of {self.model} {grew(self.ratio)}: {self.traffic}, {self.cause}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ordinal(day: str) -> str:
    """``2026-11-03`` -> ``3rd``."""
    n = date.fromisoformat(day).day
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def grew(ratio: float) -> str:
    """``doubled`` (1.9x-2.2x), ``tripled`` (2.8x-3.3x), else ``rose 60%`` / ``is 4.5x``."""
    if 1.9 <= ratio < 2.2:
        return "doubled"
    if 2.8 <= ratio < 3.3:
        return "tripled"
    return f"rose {ratio - 1:.0%}" if ratio < 2 else f"is {ratio:.1f}x"


@dataclass(frozen=True)
class _Days:
    """One series' days in date order, as plain lists (read per finding without slicing the frame)."""

    dates: list[str]
    denominator: list[float]
    spend: list[float]
    types: list[str]
    model: str
    unit: str

    def window(self, day: str, days: int) -> tuple[int, int]:
        """Positions: the window's first day and ``day``'s own row (the window ends before it)."""
        start = (date.fromisoformat(day) - timedelta(days=days)).isoformat()
        return bisect_left(self.dates, start), bisect_left(self.dates, day)

    def changed_on(self, end: int, now: str) -> str | None:
        """The first day of the last run of days (up to ``end``) whose instance types are ``now``."""
        first = end
        while first > 0 and self.types[first - 1] == now:
            first -= 1
        return self.dates[first] if self.types[first] == now else None


def _by_series(daily: pd.DataFrame) -> dict[tuple[str, str], _Days]:
    ordered = daily.sort_values([*KEYS, "date"], kind="stable")
    columns = {c: ordered[c].tolist() for c in ("date", "denominator", "spend_usd", "types", "model", "unit")}
    out = {}
    for key, positions in ordered.reset_index(drop=True).groupby(list(KEYS), sort=False).indices.items():
        a, b = int(positions[0]), int(positions[-1]) + 1  # sorted by the keys: each series is one run of rows
        out[(str(key[0]), str(key[1]))] = _Days(
            columns["date"][a:b], columns["denominator"][a:b], columns["spend_usd"][a:b], columns["types"][a:b],
            str(columns["model"][a]), str(columns["unit"][a]),
        )  # fmt: skip
    return out


def find(daily: pd.DataFrame, settings: UnitCostSettings, detector: Detector) -> list[Regression]:
    """The day's regressions: the detector's findings on the unit-cost series, kept where the denominator is not
    falling and the spend is worth a look."""
    judged = daily[daily["cost_usd"].notna()]
    if judged.empty:
        return []
    findings = detector(judged[["date", *KEYS, "cost_usd"]].astype({"cost_usd": float}), list(KEYS))
    by_series = _by_series(daily)
    out = []
    for finding in findings.to_dict("records"):
        rows = by_series[(str(finding["team"]), str(finding["series"]))]
        day = str(finding["date"])
        first, at = rows.window(day, settings.baseline_days)
        window = rows.denominator[first:at]
        base = float(median(window)) if window else 0.0
        if base > 0 and rows.denominator[at] < (1 - settings.falling_share) * base:
            continue  # fewer requests sharing the same cost: traffic, not efficiency
        if rows.spend[at] < settings.min_daily_cost_usd:
            continue
        before = rows.types[first] if window else ""
        now = rows.types[at]
        out.append(
            Regression(
                day, str(finding["team"]), rows.model, rows.unit, str(finding["series"]),
                float(finding["cost_usd"]), float(finding["baseline_usd"]), float(finding["ratio"]),
                str(finding["severity"]), float(rows.spend[at]), float(rows.denominator[at]), base, before,
                now, rows.changed_on(at, now) if before != now else None,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class ZeroDenominator:
    """A model whose denominator was read as zero on every day of the lookback while its resources kept costing."""

    model: str
    team: str
    unit: str
    days: int
    cost_usd: float
    resources: tuple[tuple[str, str, float], ...]
    """``(resource ARN, instance types, cost over the lookback)`` per resource billed to the model."""


def zero_denominators(daily: pd.DataFrame, lines: pd.DataFrame, lookback_days: int) -> list[ZeroDenominator]:
    """Models with a zero (read, not missing) denominator and a cost on each of the last ``lookback_days`` days."""
    if daily.empty:
        return []
    last = date.fromisoformat(str(daily["date"].max()))
    days = {(last - timedelta(days=n)).isoformat() for n in range(lookback_days)}
    hosting = cur.hosting(lines)
    out = []
    for (team, _series), rows in daily[daily["date"].isin(days)].groupby(list(KEYS), sort=True):
        quiet = rows["read"].all() and (rows["denominator"] == 0).all() and (rows["spend_usd"] > 0).all()
        if len(rows) < lookback_days or not quiet:
            continue
        model, unit = str(rows["model"].iloc[0]), str(rows["unit"].iloc[0])
        billed = hosting[(hosting["model"] == model) & (hosting["team"] == team) & hosting["date"].isin(days)]
        resources = tuple(
            (str(arn), ",".join(sorted(set(part["instance_type"]) - {""})), float(part["cost_usd"].sum()))
            for arn, part in billed.groupby("resource_id", sort=True, observed=True)
        )
        out.append(ZeroDenominator(model, str(team), unit, lookback_days, float(rows["spend_usd"].sum()), resources))
    return out
