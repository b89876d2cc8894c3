"""Labelled synthetic cost series: the ground truth for detection tests, the benchmark and the demo.

Teams come in archetypes that real ML spend shows (and that must *not* alert): flat but noisy spend, quiet
weekends, a weekly retraining run that makes one weekday expensive every week, tiny teams whose 3x day is a few
dollars, new teams with a short history, refund days with negative cost, and very noisy teams. Into the others we
inject the events that *must* alert: one-day spikes on any weekday (including a retraining day and a weekend) and
sustained steps (a GPU fleet left running), labelled by their onset day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costwarden.cost.frame import COST, DATE

ARCHETYPES = ("flat", "quiet_weekend", "retrain", "tiny", "new", "refund", "noisy")


@dataclass
class SyntheticSet:
    frame: pd.DataFrame
    """Long frame: date, team, cost_usd."""
    events: pd.DataFrame
    """Labelled anomalies: team, date (onset, YYYY-MM-DD), kind (spike | step), magnitude."""
    archetypes: dict[str, str]


def generate(
    n_teams: int = 70,
    days: int = 90,
    *,
    seed: int = 7,
    start: str = "2026-01-05",
    event_share: float = 0.6,
    judge_after: int = 35,
) -> SyntheticSet:
    """``n_teams`` teams over ``days`` days, archetypes cycled; about ``event_share`` of the non-tiny teams get
    an anomaly (a spike or a step) at a random day after ``judge_after`` (so a full baseline exists)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    rows_team: list[np.ndarray] = []
    rows_cost: list[np.ndarray] = []
    rows_date: list[np.ndarray] = []
    events: list[tuple[str, str, str, float]] = []
    archetypes: dict[str, str] = {}
    for index in range(n_teams):
        kind = ARCHETYPES[index % len(ARCHETYPES)]
        team = f"team-{index:03d}-{kind}"
        archetypes[team] = kind
        level = float(rng.uniform(1, 8) if kind == "tiny" else rng.uniform(250, 3000))
        noise = {"tiny": 0.3, "noisy": 0.2}.get(kind, 0.08)
        shape = np.ones(days)
        if kind == "quiet_weekend":
            shape[weekday >= 5] = 0.15
        if kind == "retrain":
            shape[weekday == int(rng.integers(0, 7))] = float(rng.uniform(2.5, 4.0))
        series = level * shape * np.clip(rng.normal(1.0, noise, days), 0.2, None)
        first = int(rng.integers(days - 55, days - 25)) if kind == "new" else 0
        if kind == "refund":
            for day in rng.choice(np.arange(10, days), size=2, replace=False):
                series[day] = -float(rng.uniform(0.3, 1.0)) * level
        if kind == "tiny":
            # Tiny teams get dramatic-looking but cheap jumps: never news (impact floor).
            series[int(rng.integers(judge_after, days))] *= 4.0
        elif rng.random() < event_share:
            earliest = max(judge_after, first + 21)
            onset = int(rng.integers(earliest, days - 1))
            magnitude = float(rng.uniform(1.8, 4.0))
            if rng.random() < 0.3:
                end = min(days, onset + int(rng.integers(8, 40)))
                series[onset:end] *= magnitude
                events.append((team, str(dates[onset].date()), "step", magnitude))
            else:
                series[onset] = max(series[onset], 0) * magnitude + (0 if series[onset] > 0 else level * magnitude)
                events.append((team, str(dates[onset].date()), "spike", magnitude))
        keep = np.arange(days) >= first
        rows_team.append(np.full(int(keep.sum()), team, dtype=object))
        rows_cost.append(series[keep])
        rows_date.append(dates.to_numpy()[keep])
    frame = pd.DataFrame(
        {DATE: np.concatenate(rows_date), "team": np.concatenate(rows_team), COST: np.concatenate(rows_cost)}
    )
    return SyntheticSet(
        frame=frame,
        events=pd.DataFrame(events, columns=["team", "date", "kind", "magnitude"]),
        archetypes=archetypes,
    )


def alert_starts(findings: pd.DataFrame, keys: Sequence[str], gap_days: int = 3) -> pd.DataFrame:
    """The findings that would raise an alert: the first day of each episode (a run of findings per series where
    consecutive findings are at most ``gap_days`` apart). Later days of an episode are the same alert."""
    if findings.empty:
        return findings
    ordered = findings.sort_values([*keys, DATE]).reset_index(drop=True)
    day = pd.to_datetime(ordered[DATE]).to_numpy().astype("datetime64[D]").astype(np.int64)
    same_series = np.ones(len(ordered), dtype=bool)
    for key in keys:
        column = ordered[key].to_numpy()
        same_series[1:] &= column[1:] == column[:-1]
    same_series[0] = False
    gap = np.empty(len(ordered), dtype=np.int64)
    gap[0] = 0
    gap[1:] = day[1:] - day[:-1]
    new_episode = ~same_series | (gap > gap_days)
    return ordered.loc[new_episode].reset_index(drop=True)


@dataclass(frozen=True)
class Score:
    alerts: int
    events: int
    true_positives: int
    precision: float
    recall: float


def score(findings: pd.DataFrame, events: pd.DataFrame, *, tolerance_days: int = 1) -> Score:
    """Precision and recall of alert starts against labelled events (an alert within ``tolerance_days`` after an
    event's onset on the same team matches it; each event matches at most one alert)."""
    starts = alert_starts(findings, ["team"])
    unmatched = {(row.team, pd.Timestamp(row.date)) for row in events.itertuples()}
    tp = 0
    for row in starts.itertuples():
        alert_day = pd.Timestamp(row.date)
        for offset in range(tolerance_days + 1):
            candidate = (row.team, alert_day - pd.Timedelta(days=offset))
            if candidate in unmatched:
                unmatched.remove(candidate)
                tp += 1
                break
    alerts, total = len(starts), len(events)
    return Score(
        alerts=alerts,
        events=total,
        true_positives=tp,
        precision=tp / alerts if alerts else 1.0,
        recall=tp / total if total else 1.0,
    )
