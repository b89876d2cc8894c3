"""Properties of detection's internals: the block size and the date span never change a finding.

Detection judges cells (series x day with rows) in blocks, each block reading its windows from the whole cell list.
The frames here have more than 256 series (the old fixed block size, which no test crossed) and mix dense,
sparse, late-starting, gapped and refunded series, so blocks start and end inside series and inside gaps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from costwarden.cost.detect import BLOCK_CELLS, DetectParams, detect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

START = pd.Timestamp("2026-01-05")


def cost_frame(seed: int, n_series: int, days: int) -> pd.DataFrame:
    """Series of several shapes: dense with a weekly rhythm, sparse, starting late, with a long gap, refunds."""
    rng = np.random.default_rng(seed)
    rows = []
    for series in range(n_series):
        level = rng.uniform(20, 3000)
        shape = series % 5
        day_numbers = np.arange(days)
        if shape == 1:  # sparse: about one day in three
            day_numbers = day_numbers[rng.random(days) < 0.35]
        elif shape == 2:  # starts late
            day_numbers = day_numbers[day_numbers >= rng.integers(0, days)]
        elif shape == 3:  # a gap of 5 to 40 days
            gap_start = rng.integers(0, days)
            day_numbers = day_numbers[(day_numbers < gap_start) | (day_numbers >= gap_start + rng.integers(5, 40))]
        for day in day_numbers:
            weekly = 0.5 if (START.day_of_week + day) % 7 >= 5 else 1.0
            cost = level * weekly * max(rng.normal(1, 0.1), 0.2)
            if rng.random() < 0.03:
                cost *= rng.uniform(2, 6)  # a spike
            if shape == 4 and rng.random() < 0.05:
                cost = -rng.uniform(1, 100)  # a refund day
            rows.append((START + pd.Timedelta(days=int(day)), f"team-{series:04d}", round(cost, 4)))
    return pd.DataFrame(rows, columns=["date", "team", "cost_usd"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_series=st.integers(257, 420),
    days=st.integers(10, 70),
    block_cells=st.integers(1, 4_000),
    baseline_days=st.sampled_from([7, 14, 30]),
)
def test_findings_do_not_depend_on_the_block_size(
    seed: int, n_series: int, days: int, block_cells: int, baseline_days: int
) -> None:
    frame = cost_frame(seed, n_series, days)
    params = DetectParams(baseline_days=baseline_days, min_history_days=min(7, baseline_days), min_impact_usd=20)
    reference = detect(frame, ["team"], params, block_cells=len(frame))  # one block: every cell at once
    assert not reference.empty  # the spikes are found: the comparison is about something
    for size in (block_cells, 256, BLOCK_CELLS):
        pd.testing.assert_frame_equal(detect(frame, ["team"], params, block_cells=size), reference)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    extra_days=st.integers(31, 80_000),
    block_cells=st.integers(1, 2_000),
)
def test_a_gap_longer_than_the_window_can_be_any_length(seed: int, extra_days: int, block_cells: int) -> None:
    """Moving everything after a >30-day gap further away (up to two centuries) moves the findings with it and
    changes nothing else: nothing in a day's 30-day window depends on how long the silence before it was."""
    early = cost_frame(seed, 20, 60)
    late = cost_frame(seed + 1, 20, 60)
    near = pd.concat([early, late.assign(date=late["date"] + pd.Timedelta(days=100))], ignore_index=True)
    far = pd.concat([early, late.assign(date=late["date"] + pd.Timedelta(days=100 + extra_days))], ignore_index=True)
    params = DetectParams(min_impact_usd=20)
    found_near = detect(near, ["team"], params)
    found_far = detect(far, ["team"], params, block_cells=block_cells)
    boundary = (START + pd.Timedelta(days=100)).strftime("%Y-%m-%d")
    shifted = pd.to_datetime(found_far["date"])
    moved = shifted >= START + pd.Timedelta(days=100 + extra_days)
    found_far["date"] = np.where(
        moved, (shifted - pd.Timedelta(days=extra_days)).dt.strftime("%Y-%m-%d"), found_far["date"]
    )
    assert (found_near["date"] >= boundary).any()  # the late part has findings of its own
    pd.testing.assert_frame_equal(
        found_far.sort_values(["date", "team"]).reset_index(drop=True),
        found_near.sort_values(["date", "team"]).reset_index(drop=True),
    )
