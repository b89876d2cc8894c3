"""Anomaly detection over every cost series at once (vectorised numpy; no per-team Python loop).

A *series* is one team (or one team x second key). For each series and day we compare the day's cost with a
robust, weekday-aware baseline built from the trailing window (default 30 days) that **excludes the day judged**:

* **Same-weekday median.** When the window holds at least ``weekday_min_samples`` (3) earlier days on the same
  weekday (lags 7, 14, 21, 28), the baseline is their median. Quiet weekends and a team's weekly retraining day
  are then normal for that weekday, and a one-day spike in the past moves a median of four by nothing.
* **Whole-window median** otherwise (new teams with one to three weeks of history).
* Negative days (refunds, credits that slipped through) and days before a series first appears are not history:
  they are left out of the baseline and of the history count. Missing days after a series appeared are 0 spend.
* A day is news only if ``cost / baseline >= warn_ratio`` (critical at ``critical_ratio``) **and** the extra spend
  ``cost - baseline`` is at least ``min_impact_usd`` **and** the robust z-score (extra spend over 1.4826 x the
  window's median absolute deviation) is at least ``zscore``: the ratio says "unusual for this team", the impact
  floor says "worth a human's minute", the z-score says "beyond this team's own day-to-day noise".
* At least ``min_history_days`` valid days in the window before a series is judged at all.

Everything is computed on a dense (series x days) matrix; the only sorts are over small per-cell windows
(four same-weekday values for every cell, the full window only for the few cells that need it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from costwarden.cost.frame import COST, DATE, ESTIMATED

#: Cost below which a baseline counts as "no spend" in the ratio's denominator (keeps ratios finite for JSON).
MIN_BASELINE_USD = 0.01
#: 1 / Phi^-1(3/4): makes the median absolute deviation a consistent estimator of a normal standard deviation.
MAD_TO_SIGMA = 1.4826
#: The z-score's scale never drops below this share of the baseline (a flat series is not infinitely sensitive).
MIN_SCALE_SHARE = 0.1
MAX_ZSCORE = 9_999.0
#: The same-weekday median replaces the whole-window median only when they differ by more than this share: a
#: real weekly pattern (quiet weekends, a retraining day), not the noise of a four-sample median.
WEEKDAY_SWITCH = 0.25

FINDING_COLUMNS = ("cost_usd", "baseline_usd", "ratio", "zscore", "impact_usd", "severity", "estimated")


@dataclass(frozen=True)
class DetectParams:
    baseline_days: int = 30
    min_history_days: int = 7
    warn_ratio: float = 1.5
    critical_ratio: float = 2.0
    min_impact_usd: float = 50.0
    zscore: float = 3.0
    weekday_min_samples: int = 3

    @classmethod
    def from_settings(cls, anomaly: Any) -> DetectParams:
        """From ``Settings.anomaly`` (kept duck-typed so this module does not import pydantic)."""
        return cls(
            baseline_days=anomaly.baseline_days,
            min_history_days=anomaly.min_history_days,
            warn_ratio=anomaly.warn_ratio,
            critical_ratio=anomaly.critical_ratio,
            min_impact_usd=anomaly.min_impact_usd,
            zscore=anomaly.zscore,
        )


@dataclass
class Grid:
    """The long frame as a dense matrix: ``values[s, t]`` is series ``s`` on day ``start + t``.

    NaN before a series' first appearance (no history yet); 0 on days it had no rows after that.
    """

    keys: list[str]
    labels: pd.DataFrame
    start: np.datetime64
    values: np.ndarray
    estimated: np.ndarray

    @property
    def days(self) -> int:
        return int(self.values.shape[1])

    def dates(self) -> np.ndarray:
        offsets: np.ndarray = np.arange(self.days).astype("timedelta64[D]")
        return np.asarray(self.start + offsets)


def to_grid(frame: pd.DataFrame, keys: Sequence[str]) -> Grid:
    """Aggregate the long frame (duplicates summed) into a ``Grid``."""
    keys = list(keys)
    if frame.empty:
        return Grid(
            keys, pd.DataFrame(columns=keys), np.datetime64("1970-01-01", "D"), np.zeros((0, 0)), np.zeros(0, bool)
        )
    if len(keys) == 1:
        codes, uniques = pd.factorize(frame[keys[0]], sort=False)
        labels = pd.DataFrame({keys[0]: np.asarray(uniques, dtype=object)})
    else:
        combined = np.zeros(len(frame), dtype=np.int64)
        for key in keys:
            part_codes, part_uniques = pd.factorize(frame[key], sort=False)
            combined = combined * max(len(part_uniques), 1) + part_codes
        codes, _ = pd.factorize(combined, sort=False)
        first_rows = np.unique(codes, return_index=True)[1]
        labels = pd.DataFrame({key: frame[key].to_numpy()[first_rows] for key in keys})
    days = frame[DATE].to_numpy().astype("datetime64[D]")
    start = days.min()
    day_index = (days - start).astype(np.int64)
    n_series, n_days = len(labels), int(day_index.max()) + 1
    flat = codes.astype(np.int64) * n_days + day_index
    size = n_series * n_days
    values = np.bincount(flat, weights=frame[COST].to_numpy(dtype=float), minlength=size).reshape(n_series, n_days)
    present = np.bincount(flat, minlength=size).reshape(n_series, n_days) > 0
    first = present.argmax(axis=1)
    values[np.arange(n_days)[None, :] < first[:, None]] = np.nan
    if ESTIMATED in frame.columns:
        est = np.bincount(day_index, weights=frame[ESTIMATED].to_numpy(dtype=float), minlength=n_days) > 0
    else:
        est = np.zeros(n_days, dtype=bool)
    return Grid(keys, labels, start, values, est)


def _median_sorted(sorted_values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median along the last axis of NaN-last sorted values, using only the first ``counts`` entries (NaN if 0)."""
    safe = np.maximum(counts, 1)
    low = np.take_along_axis(sorted_values, ((safe - 1) // 2)[..., None], axis=-1)[..., 0]
    high = np.take_along_axis(sorted_values, (safe // 2)[..., None], axis=-1)[..., 0]
    return np.where(counts > 0, (low + high) / 2.0, np.nan)


def _nan_median_rows(windows: np.ndarray) -> np.ndarray:
    """Row-wise median ignoring NaN, for a (n, w) array."""
    ordered = np.sort(windows, axis=1)
    counts = np.count_nonzero(~np.isnan(windows), axis=1)
    return _median_sorted(ordered, counts)


@dataclass
class Judged:
    """Results of ``judge``: the baseline of every cell, and the flagged cells (series, day, ratio, z, critical)."""

    baseline: np.ndarray
    history: np.ndarray
    series: np.ndarray
    day: np.ndarray
    ratio: np.ndarray
    zscore: np.ndarray
    critical: np.ndarray


#: Series are judged in blocks of this many rows: bounded memory (a block's windows are a few MB, cache-sized).
CHUNK_SERIES = 256


def judge(values: np.ndarray, params: DetectParams, judge_from: int = 0) -> Judged:
    """Baseline every cell of a (series x days) matrix and flag the anomalous ones (days >= ``judge_from``)."""
    n_series, n_days = values.shape
    baseline = np.full((n_series, n_days), np.nan)
    history = np.zeros((n_series, n_days), dtype=np.int32)
    parts: list[tuple[np.ndarray, ...]] = []
    for first in range(0, n_series, CHUNK_SERIES):
        block = slice(first, min(first + CHUNK_SERIES, n_series))
        b, h, flagged = _judge_block(values[block], params, judge_from)
        baseline[block], history[block] = b, h
        s, t, ratio, z = flagged
        parts.append((s + first, t, ratio, z))
    series = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    day = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    ratio = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    zscore = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0)
    return Judged(baseline, history, series, day, ratio, zscore, ratio >= params.critical_ratio)


def _judge_block(
    values: np.ndarray, params: DetectParams, judge_from: int
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    n_series, n_days = values.shape
    window = params.baseline_days
    with np.errstate(invalid="ignore"):
        usable = np.where(values >= 0, values, np.nan)  # NaN stays NaN; refunds become "not history"
    # The windows are sorted in float32: half the memory traffic of float64, and cent precision up to ~100k USD a
    # day per series, ample for a baseline.
    padded = np.full((n_series, window + n_days), np.nan, dtype=np.float32)
    padded[:, window:] = usable
    valid = ~np.isnan(padded)
    counts = np.zeros((n_series, window + n_days + 1), dtype=np.int32)
    np.cumsum(valid, axis=1, out=counts[:, 1:])
    # history[:, t] = valid days among t-W .. t-1  (padded index of day t is W + t)
    history = counts[:, window : window + n_days] - counts[:, :n_days]

    # Whole-window median: one small sort per cell (NaN sorts last; the first `history` entries are the data).
    windows = np.lib.stride_tricks.sliding_window_view(padded[:, :-1], window, axis=1)  # [s, t] = days t-W..t-1
    ordered = np.sort(windows, axis=2)
    whole = _median_sorted(ordered, history)

    # Same-weekday median over lags 7, 14, 21, 28 (the ones inside the window). Per-lag work is done on 2-D
    # slices (four of them), which is cheaper than reducing a third axis.
    lags = list(range(7, window + 1, 7))
    samples = [padded[:, window - lag : window - lag + n_days] for lag in lags]
    wd_counts = np.zeros((n_series, n_days), dtype=np.int32)
    for sample in samples:
        wd_counts += ~np.isnan(sample)
    same = np.stack(samples, axis=2)
    same.sort(axis=2)
    weekday = _median_sorted(same, wd_counts)

    # A weekly pattern is when (at least) three same-weekday samples sit on the same side of the whole-window
    # median by more than WEEKDAY_SWITCH: quiet weekends and retraining days do; a single past spike does not,
    # and neither does the half-old, half-new mix of weekdays a few weeks after a sustained step.
    above = np.zeros((n_series, n_days), dtype=np.int32)
    below = np.zeros((n_series, n_days), dtype=np.int32)
    high, low = whole * (1.0 + WEEKDAY_SWITCH), whole * (1.0 - WEEKDAY_SWITCH)
    with np.errstate(invalid="ignore"):
        for sample in samples:
            above += sample > high
            below += sample < low
    weekly = np.maximum(above, below) >= params.weekday_min_samples
    baseline = np.where(weekly, weekday, whole).astype(np.float64)
    # Short history (fewer than three same-weekday samples): never below what this weekday cost before, so a
    # new team's first retraining days are not news either.
    short = wd_counts < params.weekday_min_samples
    baseline = np.where(short, np.fmax(whole, weekday), baseline)

    judged = ~np.isnan(values) & (history >= params.min_history_days)
    judged[:, : max(judge_from, 0)] = False
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_all = values / np.maximum(baseline, MIN_BASELINE_USD)
        candidate = judged & (ratio_all >= params.warn_ratio) & (values - baseline >= params.min_impact_usd)
    cs, ct = np.nonzero(candidate)
    z = np.zeros(len(cs))
    if len(cs):
        cand = windows[cs, ct]
        centre = whole[cs, ct]
        mad = _nan_median_rows(np.abs(cand - centre[:, None]))
        base = baseline[cs, ct]
        # Noise is multiplicative in cost data: the window's relative spread, applied to this day's baseline.
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.nan_to_num(MAD_TO_SIGMA * mad / np.maximum(centre, MIN_BASELINE_USD))
        scale = np.maximum(np.maximum(relative, MIN_SCALE_SHARE) * np.maximum(base, 0), MIN_BASELINE_USD)
        z = np.minimum((values[cs, ct] - base) / scale, MAX_ZSCORE)
    keep = z >= params.zscore
    return baseline, history, (cs[keep], ct[keep], ratio_all[cs[keep], ct[keep]], z[keep])


def findings_frame(grid: Grid, result: Judged) -> pd.DataFrame:
    """The flagged cells as findings, sorted by date then impact (largest first)."""
    s, t = result.series, result.day
    cost = grid.values[s, t]
    base = result.baseline[s, t]
    out = pd.DataFrame({DATE: (grid.start + t.astype("timedelta64[D]")).astype(str)})
    for key in grid.keys:
        out[key] = grid.labels[key].to_numpy()[s]
    out["cost_usd"] = np.round(cost, 2)
    out["baseline_usd"] = np.round(base, 2)
    out["ratio"] = np.round(result.ratio, 3)
    out["zscore"] = np.round(result.zscore, 2)
    out["impact_usd"] = np.round(cost - base, 2)
    out["severity"] = np.where(result.critical, "critical", "warning")
    out[ESTIMATED] = grid.estimated[t] if len(grid.estimated) else np.zeros(len(t), dtype=bool)
    return out.sort_values([DATE, "impact_usd"], ascending=[True, False], kind="stable").reset_index(drop=True)


def detect(
    frame: pd.DataFrame, keys: Sequence[str], params: DetectParams | None = None, *, judge_from: str | None = None
) -> pd.DataFrame:
    """Findings for every series in ``frame`` (columns ``date``, keys, ``cost_usd``[, ``estimated``]).

    ``judge_from`` (YYYY-MM-DD) limits judgement to that day and later; earlier days are only history.
    """
    params = params or DetectParams()
    grid = to_grid(frame, keys)
    if grid.values.size == 0:
        return pd.DataFrame(columns=[DATE, *keys, *FINDING_COLUMNS])
    start_index = 0
    if judge_from is not None:
        start_index = int((np.datetime64(judge_from, "D") - grid.start).astype(np.int64))
    return findings_frame(grid, judge(grid.values, params, start_index))
