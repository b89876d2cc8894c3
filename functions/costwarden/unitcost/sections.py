"""Unit costs where people read them: the monthly report's section per model, the digest's moved-yesterday lines.

Both are built from what the unit-cost run stored (``remember``): the month's results and regressions under
``core.keys.UNITCOST_MONTH_PK`` (sk: the month), yesterday's moves under ``UNITCOST_DIGEST_PK``/``_SK``. The report
block is self-contained HTML (escaped; no ``src``, no script, like the rest of the report) appended after the
report's own sections; the digest reads the moves into ``DigestInput.unit_costs`` and renders one short section.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from statistics import median
from typing import Any

import pandas as pd

from costwarden.core.money import usd
from costwarden.models.digest import UnitCostMove
from costwarden.unitcost.regressions import unit_words

#: Models shown in the report's section (the dearest first); the rest are counted.
REPORT_MODELS = 50


def moved_yesterday(daily: pd.DataFrame, day: str, share: float, baseline_days: int) -> list[UnitCostMove]:
    """Unit costs of ``day`` that moved by at least ``share`` from the median of their previous ``baseline_days``
    days (largest move first); a model without history or without a unit cost that day is not a move."""
    start = (date.fromisoformat(day) - timedelta(days=baseline_days)).isoformat()
    out = []
    for (team, _series), rows in daily[daily["cost_usd"].notna()].groupby(["team", "series"], sort=True):
        today = rows[rows["date"] == day]
        before = rows[(rows["date"] >= start) & (rows["date"] < day)]["cost_usd"]
        if today.empty or before.empty:
            continue
        usual, now = float(median(before)), float(today["cost_usd"].iloc[0])
        if usual <= 0 or abs(now / usual - 1) < share:
            continue
        unit = str(today["unit"].iloc[0])
        move = UnitCostMove(
            team=str(team),
            model=str(today["model"].iloc[0]),
            unit=unit,
            per=unit_words(unit),
            date=date.fromisoformat(day),
            usd_per_unit=now,
            baseline_usd=usual,
            change=now / usual - 1,
        )
        out.append(move)
    return sorted(out, key=lambda m: (-abs(m.change), m.team, m.model))


def move_line(move: UnitCostMove) -> str:
    """``fraud-v3 (fraud): $1.36 per 1k predictions, +101% on its usual $0.68``."""
    return (
        f"{move.model} ({move.team}): {usd(move.usd_per_unit, cents=True)} per {move.per}, "
        f"{move.change:+.0%} on its usual {usd(move.baseline_usd, cents=True)}"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _trend(values: Sequence[float | None]) -> str:
    """The month's daily unit costs as a text sparkline (``▁▂▅█``; ``·`` for a day without one)."""
    bars = "▁▂▃▄▅▆▇█"
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join("·" if v is None else bars[min(7, int((v - low) / span * 7.999))] for v in values)


def report_html(
    month: str,
    results: Iterable[Mapping[str, Any]],
    daily: Mapping[str, Sequence[float | None]],
    regressions: Iterable[Mapping[str, Any]],
) -> str:
    """The report's unit-cost section: per model and unit, the month's unit cost, its daily trend and the month's
    regressions. ``results`` are ``UnitCost.to_dict()`` rows of the month, ``daily`` the daily unit costs per
    ``model/unit`` (in day order), ``regressions`` the month's ``Regression.to_dict()``."""
    rows = sorted(results, key=lambda r: -(r.get("cost_usd") or 0.0))
    if not rows:
        return ""
    by_series: dict[str, list[Mapping[str, Any]]] = {}
    for r in regressions:
        by_series.setdefault(f"{r.get('model')}/{r.get('unit')}", []).append(r)
    body = []
    for r in rows[:REPORT_MODELS]:
        key = f"{r.get('model')}/{r.get('unit')}"
        price = r.get("usd_per_unit")
        moved = "; ".join(
            f"{x.get('date')}: {float(x.get('ratio') or 0):.1f}x ({x.get('types_before')} -> {x.get('types_now')})"
            for x in by_series.get(key, [])[:3]
        )
        body.append(
            f"<tr><td>{_e(r.get('model'))}{' / ' + _e(r['application']) if r.get('application') else ''}</td>"
            f"<td>{_e(r.get('team'))}</td><td>{_e(unit_words(str(r.get('unit'))))}</td>"
            f"<td>{_e(usd(r.get('cost_usd')))}</td>"
            f"<td>{_e('-' if price is None else usd(price, cents=True))}</td>"
            f'<td class="muted">{_e(_trend(daily.get(key, ())))}</td><td>{_e(moved)}</td></tr>'
        )
    more = len(rows) - REPORT_MODELS
    tail = f'<p class="muted">... and {more} more models</p>' if more > 0 else ""
    return (
        f'<section id="unit-costs"><h2>Unit costs {_e(month)}</h2>'
        "<table><tr><th>model</th><th>team</th><th>per</th><th>cost</th><th>unit cost</th><th>trend</th>"
        f"<th>regressions</th></tr>{''.join(body)}</table>{tail}</section>"
    )
