"""Month-end and next-three-months forecasts per team, with low/high bands.

Per team, on daily totals of the last ``history_days`` (56, eight full weeks):

* **Trend:** Theil-Sen (the median of all pairwise slopes; robust to spikes, refunds and a few odd days), with
  Sen's rank-based 90% confidence interval for the slope. Computed for all teams at once with numpy (pairwise
  slopes as a (teams x pairs) matrix), so the forecast needs neither scipy nor a per-team loop.
* **Weekly rhythm:** a multiplicative weekday profile (median of cost / trend per weekday; the Theil-Sen line
  follows the typical day, so the profile is relative to it and not renormalised).
* **Bands:** low = lower slope x profile x (1 + 10th percentile of relative residuals), high = upper slope x
  profile x (1 + 90th percentile); never below zero. Summing daily quantiles over a month makes the band wide
  (it assumes errors move together), which is the honest side for a budget conversation.

This is the seed's "trend x growth x efficiency" floor done robustly: the trend is the growth, the profile and the
residuals carry the rest.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from costwarden.cost.frame import COST, DATE

HISTORY_DAYS = 56
Z_90 = 1.6449
MIN_POINTS = 14


@dataclass(frozen=True)
class MonthForecast:
    month: str
    expected_usd: float
    low_usd: float
    high_usd: float
    actual_to_date_usd: float = 0.0


@dataclass(frozen=True)
class TeamForecast:
    team: str
    slope_usd_per_day: float
    months: tuple[MonthForecast, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "slope_usd_per_day": self.slope_usd_per_day,
            "months": [m.__dict__ for m in self.months],
        }


def _theil_sen(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slope, intercept, low and high slope (90%) per row of ``y`` (teams x days, NaN = no data)."""
    n_days = y.shape[1]
    t = np.arange(n_days, dtype=float)
    i, j = np.triu_indices(n_days, k=1)
    slopes = (y[:, j] - y[:, i]) / (t[j] - t[i])
    ordered = np.sort(slopes, axis=1)  # NaN last
    counts = np.count_nonzero(~np.isnan(slopes), axis=1)
    points = np.count_nonzero(~np.isnan(y), axis=1)
    safe = np.maximum(counts, 1)
    rows = np.arange(len(y))
    median = (ordered[rows, (safe - 1) // 2] + ordered[rows, safe // 2]) / 2
    # Sen's interval: ranks N/2 -+ z * sqrt(var(S)) / 2, var(S) = n(n-1)(2n+5)/18 (no tie correction).
    spread = Z_90 * np.sqrt(points * (points - 1) * (2 * points + 5) / 18.0)
    low_rank = np.clip(np.floor((counts - spread) / 2).astype(int), 0, safe - 1)
    high_rank = np.clip(np.ceil((counts + spread) / 2).astype(int), 0, safe - 1)
    low, high = ordered[rows, low_rank], ordered[rows, high_rank]
    intercept = np.nanmedian(y - median[:, None] * t[None, :], axis=1)
    return median, intercept, low, high


def forecast(daily: pd.DataFrame, last_day: date, months_ahead: int = 3) -> list[TeamForecast]:  # noqa: PLR0915 - one numeric pipeline, read top to bottom
    """Forecasts for every team in a team-level daily frame (date, team, cost_usd) whose history is long enough."""
    if daily.empty:
        return []
    first = last_day - timedelta(days=HISTORY_DAYS - 1)
    dates = pd.date_range(first, last_day, freq="D")
    window = daily.loc[(daily[DATE] >= pd.Timestamp(first)) & (daily[DATE] <= pd.Timestamp(last_day))]
    wide = window.pivot_table(index="team", columns=DATE, values=COST, aggfunc="sum").reindex(columns=dates)
    # After a team's first day, a missing day is zero spend.
    seen = wide.notna().cumsum(axis=1) > 0
    wide = wide.where(~seen, wide.fillna(0.0))
    y = wide.to_numpy(dtype=float)
    enough = np.count_nonzero(~np.isnan(y), axis=1) >= MIN_POINTS
    teams = wide.index[enough].tolist()
    y = y[enough]
    if not teams:
        return []
    slope, intercept, low_slope, high_slope = _theil_sen(y)
    t = np.arange(len(dates), dtype=float)
    trend = intercept[:, None] + slope[:, None] * t[None, :]
    weekday = dates.day_of_week.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(trend > 0, y / trend, np.nan)
    profile = np.ones((len(teams), 7))
    for w in range(7):  # seven columns, not a per-team loop
        column = ratio[:, weekday == w]
        if column.size:
            profile[:, w] = np.nan_to_num(np.nanmedian(np.where(np.isnan(column), np.nan, column), axis=1), nan=1.0)
    fitted = trend * profile[:, weekday]
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = np.where(fitted > 0, y / fitted - 1.0, np.nan)
    q_low = np.nan_to_num(np.nanquantile(residual, 0.1, axis=1), nan=0.0)
    q_high = np.nan_to_num(np.nanquantile(residual, 0.9, axis=1), nan=0.0)

    # Future days: rest of this month and the next `months_ahead` months.
    month_start = last_day.replace(day=1)
    end_year, end_month = month_start.year, month_start.month + months_ahead
    end_year += (end_month - 1) // 12
    end_month = (end_month - 1) % 12 + 1
    horizon_end = date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    future = pd.date_range(last_day + timedelta(days=1), horizon_end, freq="D")
    ft = (future - pd.Timestamp(first)).days.to_numpy(dtype=float)
    fw = future.day_of_week.to_numpy()
    base = intercept[:, None] + slope[:, None] * ft[None, :]
    anchor = intercept + slope * t[-1]  # bands pivot at the last observed day
    low_line = anchor[:, None] + low_slope[:, None] * (ft[None, :] - t[-1])
    high_line = anchor[:, None] + high_slope[:, None] * (ft[None, :] - t[-1])
    expected = np.maximum(base * profile[:, fw], 0.0)
    low = np.maximum(low_line * profile[:, fw] * (1 + q_low[:, None]), 0.0)
    high = np.maximum(high_line * profile[:, fw] * (1 + q_high[:, None]), 0.0)
    high = np.maximum(high, expected)
    low = np.minimum(low, expected)

    month_of = future.strftime("%Y-%m").to_numpy()
    this_month = f"{last_day:%Y-%m}"
    actual = (
        window.loc[window[DATE] >= pd.Timestamp(month_start)].groupby("team")[COST].sum().reindex(teams).fillna(0.0)
    )
    months = [this_month, *sorted(set(month_of) - {this_month})]
    results: list[TeamForecast] = []
    for index, team in enumerate(teams):  # assembling output records only; all arithmetic above is vectorised
        out = []
        for month in months:
            mask = month_of == month
            done = float(actual.iloc[index]) if month == this_month else 0.0
            out.append(
                MonthForecast(
                    month=month,
                    expected_usd=round(done + float(expected[index, mask].sum()), 2),
                    low_usd=round(done + float(low[index, mask].sum()), 2),
                    high_usd=round(done + float(high[index, mask].sum()), 2),
                    actual_to_date_usd=round(done, 2),
                )
            )
        results.append(TeamForecast(team=str(team), slope_usd_per_day=round(float(slope[index]), 4), months=tuple(out)))
    return results
