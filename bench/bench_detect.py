"""Detection at scale: 10,000 teams x 90 days (900,000 rows).

1. The vectorised detection (``costwarden.cost.detect``): wall time and peak memory (tracemalloc, separate run).
2. A straightforward per-team Python loop implementing the seed's rule (ratio of the day to the trailing 30-day
   mean, z-score from the trailing standard deviation), measured in the same run on a subsample of teams and
   scaled per row; the per-row speed ratio is printed (target >= 500x).
3. ``costwarden detect`` as a whole process (start, read, detect, write JSON) on the same 900,000 rows as CSV and
   as Parquet (target about 1.5 s).
4. The same CSV run with ``PYTHONDONTWRITEBYTECODE=1`` (containers, CI, these machines) and without it: within
   1.3x of each other when the install compiled bytecode (``uv sync --compile-bytecode`` in ``make dev``). The
   bench compiles nothing itself: it measures the venv as installed, the ``PYTHONDONTWRITEBYTECODE=1`` run first,
   so a venv without ``.pyc`` files shows up as a slow first row instead of being warmed by the other.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from costwarden.cost.detect import detect

TEAMS = 10_000
DAYS = 90
LOOP_TEAMS = 200
OUT = Path("bench-out")


def make_frame(teams: int = TEAMS, days: int = DAYS, seed: int = 5) -> pd.DataFrame:
    """Weekly rhythm, noise, some spikes: a dense (teams x days) long frame."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2026-01-05", periods=days, freq="D")
    level = rng.uniform(20, 3000, size=(teams, 1))
    weekly = np.where(dates.day_of_week.to_numpy() >= 5, 0.5, 1.0)[None, :]
    values = level * weekly * np.clip(rng.normal(1, 0.1, size=(teams, days)), 0.2, None)
    spikes = rng.random(size=(teams, days)) < 0.003
    values[spikes] *= rng.uniform(2, 5, size=int(spikes.sum()))
    return pd.DataFrame(
        {
            "date": np.tile(dates.to_numpy(), teams),
            "team": np.repeat(np.array([f"team-{i:05d}" for i in range(teams)], dtype=object), days),
            "cost_usd": values.reshape(-1).round(4),
        }
    )


def seed_loop(
    frame: pd.DataFrame, teams: list[str], baseline_days: int = 30, warn: float = 1.5, min_impact: float = 50.0
) -> list[Any]:
    """The seed's rule, one team and one day at a time (what a first version usually looks like): select the
    team's rows, walk its days, ratio of the day to the trailing mean, z-score from the trailing deviation."""
    findings = []
    for team in teams:
        rows = frame[frame["team"] == team].sort_values("date")
        costs = rows["cost_usd"].tolist()
        dates = rows["date"].tolist()
        for i, cost in enumerate(costs):
            window = costs[max(0, i - baseline_days) : i]
            if len(window) < 7:
                continue
            mean = sum(window) / len(window)
            stdev = statistics.pstdev(window)
            ratio = cost / mean if mean > 0 else float("inf")
            zscore = (cost - mean) / stdev if stdev > 0 else 0.0
            if ratio >= warn and cost - mean >= min_impact:
                findings.append((dates[i], team, cost, mean, ratio, zscore))
    return findings


def _cli_seconds(
    path: Path, repeats: int = 3, *, no_bytecode_writes: bool = True, pycache: Path | None = None
) -> tuple[float, int]:
    """Median wall time of ``costwarden detect`` as a process; ``no_bytecode_writes`` sets
    ``PYTHONDONTWRITEBYTECODE=1`` (else it is removed from the environment); ``pycache`` (an empty folder as
    ``PYTHONPYCACHEPREFIX``) hides every installed ``.pyc``: what an install without compiled bytecode costs."""
    exe = Path(sys.executable).with_name("costwarden")
    command = [str(exe), "detect", "--costs", str(path), "--format", "json"]
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONWARNINGS"] = "ignore"
    if no_bytecode_writes:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if pycache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    times = []
    size = 0
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - started)
        size = len(done.stdout)
    return statistics.median(times), size


def main() -> list[dict[str, Any]]:
    OUT.mkdir(exist_ok=True)
    frame = make_frame()
    rows = len(frame)

    detect(frame.head(9_000), ["team"])  # warm-up (first-call imports and caches)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        findings = detect(frame, ["team"])
        timings.append(time.perf_counter() - started)
    vector_s = statistics.median(timings)
    tracemalloc.start()
    detect(frame, ["team"])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # The loop runs over the full 900k-row frame but only for LOOP_TEAMS teams (it would take minutes for all);
    # every team has DAYS rows, so time per row = time / (LOOP_TEAMS * DAYS).
    loop_teams = list(frame["team"].unique()[:LOOP_TEAMS])
    started = time.perf_counter()
    seed_loop(frame, loop_teams)
    loop_s = time.perf_counter() - started
    loop_rows = LOOP_TEAMS * DAYS
    loop_per_row = loop_s / loop_rows
    vector_per_row = vector_s / rows
    speedup = loop_per_row / vector_per_row

    csv_path, parquet_path = OUT / "costs_900k.csv", OUT / "costs_900k.parquet"
    out = frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))
    out.to_csv(csv_path, index=False)
    out.to_parquet(parquet_path, index=False)
    no_writes_s, csv_bytes = _cli_seconds(csv_path, no_bytecode_writes=True)  # first: nothing warmed for it
    csv_s, _ = _cli_seconds(csv_path, no_bytecode_writes=False)
    parquet_s, _ = _cli_seconds(parquet_path, no_bytecode_writes=False)
    bytecode_ratio = no_writes_s / csv_s
    with tempfile.TemporaryDirectory() as empty:
        no_pyc_s, _ = _cli_seconds(csv_path, no_bytecode_writes=True, pycache=Path(empty))

    load = os.getloadavg()[0]
    results = [
        {
            "what": "vectorised detect (900k rows)",
            "seconds": round(vector_s, 3),
            "peak_mb": round(peak / 2**20, 1),
            "findings": len(findings),
        },
        {
            "what": f"seed per-team loop ({loop_rows:,} rows, {LOOP_TEAMS} teams)",
            "seconds": round(loop_s, 3),
            "extrapolated_900k_s": round(loop_per_row * rows, 1),
        },
        {"what": "per-row speed-up (loop / vectorised)", "ratio": round(speedup)},
        {"what": "costwarden detect, whole process, CSV", "seconds": round(csv_s, 2), "json_bytes": csv_bytes},
        {"what": "costwarden detect, whole process, Parquet", "seconds": round(parquet_s, 2)},
        {
            "what": "costwarden detect, whole process, CSV, PYTHONDONTWRITEBYTECODE=1",
            "seconds": round(no_writes_s, 2),
            "ratio_to_without": round(bytecode_ratio, 2),
        },
        {"what": "same, no .pyc installed (before --compile-bytecode)", "seconds": round(no_pyc_s, 2)},
        {"what": "load average (1 min)", "value": round(load, 2)},
    ]
    print(f"{'measure':<48} result   (1-min load average {load:.1f} on {os.cpu_count()} CPUs)")
    print(
        f"{'vectorised detect, 10,000 teams x 90 days':<48} {vector_s:.3f} s, peak {peak / 2**20:.0f} MB "
        f"(tracemalloc), {len(findings):,} findings"
    )
    print(
        f"{'seed loop, ' + str(LOOP_TEAMS) + ' teams':<48} {loop_s:.2f} s -> {loop_per_row * rows:.0f} s for 900k rows"
    )
    print(f"{'per-row speed-up':<48} {speedup:,.0f}x (target >= 500x)")
    print(f"{'costwarden detect (process, CSV 900k rows)':<48} {csv_s:.2f} s median of 3 (target ~1.5 s)")
    print(f"{'costwarden detect (process, Parquet 900k rows)':<48} {parquet_s:.2f} s median of 3")
    print(
        f"{'same CSV with PYTHONDONTWRITEBYTECODE=1':<48} {no_writes_s:.2f} s median of 3: "
        f"{bytecode_ratio:.2f}x the run without it (target <= 1.3x)"
    )
    print(f"{'same, no .pyc installed (the cost before the fix)':<48} {no_pyc_s:.2f} s median of 3")
    return results


if __name__ == "__main__":
    main()
