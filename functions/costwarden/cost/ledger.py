"""The ledger: one answer per spend question, over the daily cost frame every part reads (pure).

The cost monitor, the digest, the budgets and the monthly report used to answer the same three questions each
their own way, and a reader holding two of their messages saw two numbers for one fact (the monitor's "usual 834"
and the digest's "baseline 1,448" for the same team and morning; a budget's "projected 65,209" above the forecast's
"65,444" for the same month end). Every caller now asks here:

* **Month to date** (``month_to_date``, ``month_totals``): the sum of the daily frame from the 1st through the day
  asked, per team (the frame is the cost cache's: ``date``, the team column, ``cost_usd``).
* **Baseline of a series on a day** (``baselines``): the anomaly detector's own baseline (``cost.detect``), never
  a second median: the median of the same weekday in the previous ``baseline_days`` days when the series spends by
  weekday, else the median of the previous ``baseline_days`` days; the day itself, refunds and days before the
  series began are left out. ``BASELINE_RULE`` says so in every message that shows a baseline.
* **Projection of a month** (``projection``): month to date plus the run rate (month to date / days elapsed) times
  the days left: what budgets are judged on, what the digest and the report show. The Theil-Sen forecast
  (``cost.forecast``) is a band around the months after it, never a second projection of the same month end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from costwarden.cost.detect import DetectParams, judge, to_cells
from costwarden.cost.frame import COST, DATE


def baseline_rule(baseline_days: int) -> str:
    """The baseline's definition in words, for every message that shows one (``baseline_days`` from settings)."""
    return f"baseline: median of the previous {baseline_days} days (of the same weekday when spend follows the week)"


#: The rule with the default window, for messages that do not carry the settings.
BASELINE_RULE = baseline_rule(DetectParams.baseline_days)
#: The projection's definition in words, for every message that shows one.
PROJECTION_RULE = "projected: month to date + run rate (month to date / days elapsed) x days left"


class LedgerError(ValueError):
    """A ledger question asked with an impossible argument (the message names it)."""


def _check_frame(daily: pd.DataFrame, key: str) -> None:
    missing = [c for c in (DATE, key, COST) if c not in daily.columns]
    if missing:
        raise LedgerError(f"daily cost frame: missing column(s) {', '.join(missing)}")


def month_to_date(daily: pd.DataFrame, last_day: date, *, key: str = "team") -> pd.Series:
    """Spend per ``key`` from the 1st of ``last_day``'s month through ``last_day`` (inclusive), sorted by key.

    A key with no row in those days is absent (not zero): it did not spend this month.
    """
    _check_frame(daily, key)
    if daily.empty:
        return pd.Series(dtype=float, name=COST)
    first = pd.Timestamp(last_day.replace(day=1))
    in_month = daily.loc[(daily[DATE] >= first) & (daily[DATE] <= pd.Timestamp(last_day))]
    return in_month.groupby(key)[COST].sum().sort_index()


def month_totals(daily: pd.DataFrame, by: list[str]) -> pd.Series:
    """Spend per calendar month (``YYYY-MM``, the last level of the index) and the ``by`` columns.

    ``month_totals(frame, [team])[(team, month)]`` equals ``month_to_date(frame, last day of month)[team]``: the
    monthly report's totals are the digest's month to date on the month's last day.
    """
    for column in by:
        _check_frame(daily, column)
    if daily.empty:
        return pd.Series(dtype=float, name=COST)
    months = pd.to_datetime(daily[DATE]).dt.strftime("%Y-%m").rename("month")
    return daily.groupby([*(daily[c] for c in by), months])[COST].sum()


def daily_totals(daily: pd.DataFrame, first: date, days: int) -> pd.Series:
    """Spend of the whole frame per day for ``days`` days from ``first`` (index ``YYYY-MM-DD``, 0.0 for a day
    without a row): the monthly report's daily trend, whose sum is the month to date of ``first + days - 1``."""
    _check_frame(daily, DATE)
    index = [(first + timedelta(days=n)).isoformat() for n in range(max(days, 0))]
    if daily.empty or not index:
        return pd.Series(0.0, index=index, name=COST, dtype=float)
    dates = pd.to_datetime(daily[DATE]).dt.strftime("%Y-%m-%d")
    return daily[COST].groupby(dates).sum().reindex(index, fill_value=0.0).astype(float)


def baselines(daily: pd.DataFrame, day: date, params: DetectParams, *, key: str = "team") -> pd.Series:
    """The detector's baseline of every ``key`` series on ``day`` (``BASELINE_RULE``), NaN without history.

    A series without a row on ``day`` is judged as spending 0 that day (its baseline does not depend on it).
    """
    _check_frame(daily, key)
    if daily.empty:
        return pd.Series(dtype=float)
    target = pd.Timestamp(day)
    earlier = daily.loc[daily[DATE] <= target, [DATE, key, COST]]
    seen = earlier[key].unique()
    present = set(earlier.loc[earlier[DATE] == target, key])
    zeros = pd.DataFrame({DATE: target, key: [k for k in seen if k not in present], COST: 0.0})
    frame = pd.concat([earlier, zeros], ignore_index=True) if len(zeros) else earlier
    cells = to_cells(frame, [key])
    if len(cells) == 0:
        return pd.Series(dtype=float)
    day_number = int(np.datetime64(day, "D").astype(np.int64))
    judged = judge(cells, params, day_number)
    on_day = cells.day == day_number
    labels = cells.labels[key].to_numpy()[cells.series[on_day]]
    return pd.Series(judged.baseline[on_day], index=labels, dtype=float).sort_index()


@dataclass(frozen=True)
class Projection:
    """Where a month is heading from its month to date (``PROJECTION_RULE``)."""

    month: str
    month_to_date_usd: float
    days_elapsed: int
    days_in_month: int
    run_rate_usd: float
    projected_usd: float

    @property
    def factor(self) -> float:
        """Projected / month to date (1.0 once the month is complete or before it began)."""
        return self.days_in_month / self.days_elapsed if 0 < self.days_elapsed < self.days_in_month else 1.0


def projection(month_to_date_usd: float, last_day: date, *, days_elapsed: int | None = None) -> Projection:
    """The month of ``last_day`` projected from ``month_to_date_usd`` spent through ``last_day`` (inclusive).

    ``days_elapsed`` (0 .. days in the month) overrides ``last_day.day`` for a caller that counts complete days of
    a month under way (the report on the 1st of the next month passes the whole month). Zero days elapsed
    projects nothing yet: the month to date itself.
    """
    if not np.isfinite(month_to_date_usd):
        raise LedgerError(f"month to date: {month_to_date_usd!r} is not a finite amount")
    days_in_month = calendar.monthrange(last_day.year, last_day.month)[1]
    elapsed = last_day.day if days_elapsed is None else days_elapsed
    if not 0 <= elapsed <= days_in_month:
        raise LedgerError(f"days elapsed: {elapsed} is outside 0..{days_in_month} for {last_day:%Y-%m}")
    run_rate = month_to_date_usd / elapsed if elapsed else 0.0
    projected = month_to_date_usd + run_rate * (days_in_month - elapsed)
    return Projection(f"{last_day:%Y-%m}", month_to_date_usd, elapsed, days_in_month, run_rate, projected)


def last_day_of_month(month_day: date) -> date:
    """The month's last calendar day (the day whose month to date is the month's total)."""
    return month_day.replace(day=1) + timedelta(days=calendar.monthrange(month_day.year, month_day.month)[1] - 1)
