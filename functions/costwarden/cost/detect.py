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

Only days that have rows are judged (a day without rows is 0 spend, never news), each against a window gathered
from the series' earlier rows: work and memory follow the rows given, not the date span, and blocks of cells keep
the windows cache-sized. The only sorts are over small per-cell windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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


#: ``to_cells`` sorts through a (series x days) count grid when it has at most this many cells per row.
DENSE_FACTOR = 4


@dataclass
class Cells:
    """The long frame aggregated to one cell per (series, day) that has rows, sorted by series, then day.

    Only days with rows are stored: memory follows the rows given, never the date span (two rows 500 years apart
    are two cells, not a 182,000-day axis). A day without rows after a series' first day is 0 spend; before it,
    no history. ``estimated`` is per cell: the day had an estimated row (for any series).
    """

    keys: list[str]
    labels: pd.DataFrame
    series: np.ndarray
    day: np.ndarray
    value: np.ndarray
    estimated: np.ndarray
    first_day: np.ndarray
    #: ``value`` as window history: float32, NaN where negative (refunds and credits are not history).
    history_value: np.ndarray = field(init=False)
    #: How many cells just before each cell are the same series on the days just before it (0: none).
    dense_back: np.ndarray = field(init=False)
    #: ``valid_before[k]``: cells before cell ``k`` whose value is history (not negative); ``len(self) + 1`` long.
    valid_before: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        with np.errstate(invalid="ignore"):
            self.history_value = np.where(self.value >= 0, self.value, np.nan).astype(np.float32)
        index = np.arange(len(self.series), dtype=np.int32)
        breaks = np.r_[True, (self.series[1:] != self.series[:-1]) | (self.day[1:] - self.day[:-1] != 1)]
        self.dense_back = index - np.maximum.accumulate(np.where(breaks, index, 0))
        self.valid_before = np.zeros(len(self.series) + 1, dtype=np.int32)
        np.cumsum(~np.isnan(self.history_value), out=self.valid_before[1:])

    def __len__(self) -> int:
        return len(self.series)


def to_cells(frame: pd.DataFrame, keys: Sequence[str]) -> Cells:
    """Aggregate the long frame (duplicate rows of a series and day summed) into ``Cells``."""
    keys = list(keys)
    if frame.empty:
        empty = np.zeros(0, dtype=np.int64)
        return Cells(keys, pd.DataFrame(columns=keys), empty, empty, np.zeros(0), np.zeros(0, bool), empty)
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
    days = frame[DATE].to_numpy().astype("datetime64[D]").astype(np.int64)
    low = int(days.min())
    span = int(days.max()) - low + 1  # < 215,000 (pandas' date range): series x span fits in int64
    flat = codes.astype(np.int64) * span + (days - low)
    del codes
    if len(labels) * span <= DENSE_FACTOR * len(frame) + 1024:
        # Mostly filled (series x days): a counting sort over the grid is linear, and the grid no larger than rows.
        present = np.bincount(flat, minlength=len(labels) * span) > 0
        cell_keys = np.flatnonzero(present)
        position = np.cumsum(present, dtype=np.int64) - 1
        del present
        inverse = position[flat]
        del position
    else:  # sparse: sort the rows themselves
        cell_keys, inverse = np.unique(flat, return_inverse=True)
    del flat
    value = np.bincount(inverse, weights=frame[COST].to_numpy(dtype=float), minlength=len(cell_keys))
    del inverse
    # Days since 1970 and series numbers fit 32 bits: half the memory of the per-cell arrays.
    series = (cell_keys // span).astype(np.int32)
    day = (cell_keys % span + low).astype(np.int32)
    del cell_keys
    if ESTIMATED in frame.columns and bool(frame[ESTIMATED].any()):
        estimated = np.isin(day, np.unique(days[frame[ESTIMATED].to_numpy(dtype=bool)]))
    else:
        estimated = np.zeros(len(day), dtype=bool)
    del days
    starts = np.flatnonzero(np.r_[True, series[1:] != series[:-1]])
    first_day = np.zeros(len(labels), dtype=np.int32)
    first_day[series[starts]] = day[starts]
    return Cells(keys, labels, series, day, value, estimated, first_day)


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
    """Results of ``judge``: every cell's baseline and history, and the flagged cells (index, ratio, z, critical)."""

    baseline: np.ndarray
    history: np.ndarray
    cell: np.ndarray
    ratio: np.ndarray
    zscore: np.ndarray
    critical: np.ndarray


#: Cells judged per block: bounded memory (a block's windows are block x baseline_days floats, a few MB).
BLOCK_CELLS = 16_384


def judge(
    cells: Cells, params: DetectParams, judge_from: int | None = None, *, block_cells: int = BLOCK_CELLS
) -> Judged:
    """Baseline every cell and flag the anomalous ones (days >= ``judge_from``, in days since 1970-01-01).

    Cells are judged in blocks of ``block_cells``; each block reads its windows from the whole cell list, so the
    findings do not depend on the block size (a property test holds this).
    """
    if block_cells < 1:
        raise ValueError("block_cells must be at least 1")
    n = len(cells)
    baseline = np.full(n, np.nan)
    history = np.zeros(n, dtype=np.int32)
    parts: list[tuple[np.ndarray, ...]] = []
    padded = np.concatenate([np.full(params.baseline_days, np.nan, dtype=np.float32), cells.history_value])
    for first in range(0, n, block_cells):
        block = slice(first, min(first + block_cells, n))
        b, h, (flagged, ratio, z) = _judge_block(cells, block, params, judge_from, padded)
        baseline[block], history[block] = b, h
        parts.append((flagged + first, ratio, z))
    cell = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    ratio = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    zscore = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0)
    return Judged(baseline, history, cell, ratio, zscore, ratio >= params.critical_ratio)


def _windows(cells: Cells, block: slice, window: int, history: np.ndarray) -> np.ndarray:
    """``out[i, j]``: cost of block cell ``i``'s series on day ``day - window + j`` (the ``window`` days before it).

    NaN before the series' first day and on negative days (refunds are not history), 0 on days without rows.
    ``history`` is ``Cells.history_value`` behind ``window`` NaNs, so ``history[k : k + window]`` holds the
    ``window`` cells before cell ``k``. Where those are the series' previous days (a dense series: most cells),
    that slice is the window. Otherwise only the part inside the cell's run of consecutive days is taken from it,
    the rest starts as 0 (or NaN before the series began), and earlier cells of the series that are at most
    ``window`` days back (a sparse series) are scattered into place, one vectorised step back at a time.
    """
    series, day = cells.series[block], cells.day[block]
    out = np.lib.stride_tricks.sliding_window_view(history, window)[block].copy()
    dense = np.minimum(cells.dense_back[block], window)
    partial = np.flatnonzero(dense < window)
    if len(partial) == 0:
        return out
    # Columns left of the cell's run of days: NaN before the series began, 0 after it (a day without rows).
    cut = window - dense[partial]
    began = np.clip(cells.first_day[series[partial]] - day[partial] + window, 0, window)
    at_start = began >= cut  # the run is the series' beginning (every early cell of a dense series): all NaN
    simple, simple_cut = partial[at_start], cut[at_start]
    for columns in np.unique(simple_cut):
        out[simple[simple_cut == columns], :columns] = np.nan
    partial, cut, began = partial[~at_start], cut[~at_start], began[~at_start]
    if len(partial) == 0:
        return out
    columns_ = np.arange(window)[None, :]
    fill = np.where(columns_ >= began[:, None], np.float32(0.0), np.float32(np.nan))
    out[partial] = np.where(columns_ >= cut[:, None], out[partial], fill)
    # Cells whose series has an earlier cell before its run of consecutive days, still inside the window.
    index = block.start + partial
    run_start = index - dense[partial]
    before = np.maximum(run_start - 1, 0)
    gapped = (run_start > 0) & (cells.series[before] == series[partial]) & (day[partial] - cells.day[before] <= window)
    rows, index = partial[gapped], index[gapped]
    for back in range(1, window + 1):
        earlier = np.maximum(index - back, 0)
        gap = day[rows] - cells.day[earlier]
        near = (index - back >= 0) & (cells.series[earlier] == series[rows]) & (gap <= window)
        if not near.any():
            break
        out[rows[near], window - gap[near]] = cells.history_value[earlier[near]]
    return out


def _history(cells: Cells, block: slice, window: int, windows: np.ndarray) -> np.ndarray:
    """Valid history days in each cell's window. The part of a window inside the cell's run of consecutive days
    is the cells just before it, so a running count over the cell list answers it; before the run there is
    nothing (the series began there) except for cells after a gap, which are counted in their windows."""
    index = np.arange(block.start, block.stop)
    dense = np.minimum(cells.dense_back[block], window)
    history: np.ndarray = cells.valid_before[index] - cells.valid_before[index - dense]
    began = np.clip(cells.first_day[cells.series[block]] - cells.day[block] + window, 0, window)
    gapped = np.flatnonzero(began < window - dense)
    history[gapped] = np.count_nonzero(~np.isnan(windows[gapped]), axis=1)
    return history


def _judge_block(
    cells: Cells, block: slice, params: DetectParams, judge_from: int | None, history_view: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    window = params.baseline_days
    values = cells.value[block]
    windows = _windows(cells, block, window, history_view)  # [i, j] = day - W + j
    history = _history(cells, block, window, windows)

    # Whole-window median: one small sort per cell (NaN sorts last; the first `history` entries are the data).
    whole = _median_sorted(np.sort(windows, axis=1), history)

    # Same-weekday median over lags 7, 14, 21, 28 (the ones inside the window), as one (cells x lags) copy.
    samples = windows[:, [window - lag for lag in range(7, window + 1, 7)]]
    wd_counts = np.count_nonzero(~np.isnan(samples), axis=1).astype(np.int32)
    same = np.sort(samples, axis=1)
    weekday = _median_sorted(same, wd_counts)

    # A weekly pattern is when (at least) three same-weekday samples sit on the same side of the whole-window
    # median by more than WEEKDAY_SWITCH: quiet weekends and retraining days do; a single past spike does not,
    # and neither does the half-old, half-new mix of weekdays a few weeks after a sustained step.
    with np.errstate(invalid="ignore"):
        above = np.count_nonzero(samples > (whole * (1.0 + WEEKDAY_SWITCH))[:, None], axis=1)
        below = np.count_nonzero(samples < (whole * (1.0 - WEEKDAY_SWITCH))[:, None], axis=1)
    weekly = np.maximum(above, below) >= params.weekday_min_samples
    baseline = np.where(weekly, weekday, whole).astype(np.float64)
    # Short history (fewer than three same-weekday samples): never below what this weekday cost before, so a
    # new team's first retraining days are not news either.
    short = wd_counts < params.weekday_min_samples
    baseline = np.where(short, np.fmax(whole, weekday), baseline)

    judged = history >= params.min_history_days
    if judge_from is not None:
        judged &= cells.day[block] >= judge_from
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio_all = values / np.maximum(baseline, MIN_BASELINE_USD)
        candidate = judged & (ratio_all >= params.warn_ratio) & (values - baseline >= params.min_impact_usd)
    (cs,) = np.nonzero(candidate)
    z = np.zeros(len(cs))
    if len(cs):
        centre = whole[cs]
        mad = _nan_median_rows(np.abs(windows[cs] - centre[:, None]))
        base = baseline[cs]
        # Noise is multiplicative in cost data: the window's relative spread, applied to this day's baseline.
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.nan_to_num(MAD_TO_SIGMA * mad / np.maximum(centre, MIN_BASELINE_USD))
        scale = np.maximum(np.maximum(relative, MIN_SCALE_SHARE) * np.maximum(base, 0), MIN_BASELINE_USD)
        z = np.minimum((values[cs] - base) / scale, MAX_ZSCORE)
    keep = z >= params.zscore
    return baseline, history, (cs[keep], ratio_all[cs[keep]], z[keep])


def findings_frame(cells: Cells, result: Judged) -> pd.DataFrame:
    """The flagged cells as findings, sorted by date then impact (largest first)."""
    c = result.cell
    cost = cells.value[c]
    base = result.baseline[c]
    out = pd.DataFrame({DATE: cells.day[c].astype("datetime64[D]").astype(str)})
    for key in cells.keys:
        out[key] = cells.labels[key].to_numpy()[cells.series[c]]
    out["cost_usd"] = np.round(cost, 2)
    out["baseline_usd"] = np.round(base, 2)
    out["ratio"] = np.round(result.ratio, 3)
    out["zscore"] = np.round(result.zscore, 2)
    out["impact_usd"] = np.round(cost - base, 2)
    out["severity"] = np.where(result.critical, "critical", "warning")
    out[ESTIMATED] = cells.estimated[c]
    return out.sort_values([DATE, "impact_usd"], ascending=[True, False], kind="stable").reset_index(drop=True)


def detect(
    frame: pd.DataFrame,
    keys: Sequence[str],
    params: DetectParams | None = None,
    *,
    judge_from: str | None = None,
    block_cells: int = BLOCK_CELLS,
) -> pd.DataFrame:
    """Findings for every series in ``frame`` (columns ``date``, keys, ``cost_usd``[, ``estimated``]).

    ``judge_from`` (YYYY-MM-DD) limits judgement to that day and later; earlier days are only history.
    ``block_cells`` only bounds memory; it never changes a finding.
    """
    params = params or DetectParams()
    cells = to_cells(frame, keys)
    if len(cells) == 0:
        return pd.DataFrame(columns=[DATE, *keys, *FINDING_COLUMNS])
    start = None if judge_from is None else int(np.datetime64(judge_from, "D").astype(np.int64))
    return findings_frame(cells, judge(cells, params, start, block_cells=block_cells))
