"""Declared planned spend in detection: the cost monitor's hook (pandas), apart from the records themselves.

The records (``core.planned``: parse, store, look up) are read by the Slack endpoint and the CLI too, which carry
no pandas; only this re-judging of findings needs it, so it lives with the cost monitor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from costwarden.core.planned import planned_extra


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
