"""Whole-process measurement, the same for both tools, and the arithmetic of the comparison (pure, tested).

A run is one process from ``exec`` to exit: wall (``perf_counter`` around ``subprocess.run``), the tool's own CPU
(user + sys of the finished child: ``getrusage(RUSAGE_CHILDREN)`` deltas, no other child is reaped meanwhile) and the
simulator's CPU over the same span (the moto server's ``/proc/<pid>/stat``), so a wall ratio that is really the
simulator's can be seen as such. Requests come from the counting hook's JSON (``bench/peer/hook``).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Run:
    """One measured process."""

    tool: str
    wall_s: float
    cpu_s: float
    server_cpu_s: float | None
    exit_code: int
    requests: dict[str, int] = field(default_factory=dict)


def server_cpu(pid: int | None) -> float | None:
    """User + sys seconds a live process has used (Linux ``/proc``); None where that cannot be read."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_counts(path: Path) -> dict[str, int]:
    """The hook's counts, or ``{}`` when the process wrote none (it crashed before exit, or made no client)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    requests = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(requests, dict):
        return {}
    return {str(k): int(v) for k, v in requests.items() if isinstance(v, int)}


def run_process(
    tool: str, argv: Sequence[str], env: dict[str, str], counts: Path, server_pid: int | None, timeout: float = 1800
) -> tuple[Run, str, str]:
    """Run ``argv`` once and measure it; returns the run, its stdout and its stderr."""
    counts.unlink(missing_ok=True)
    before, served = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu(server_pid)
    started = time.perf_counter()
    done = subprocess.run(
        list(argv),
        env={**env, "PEER_COUNT_OUT": str(counts)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - started
    after, served_after = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu(server_pid)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sim = None if served is None or served_after is None else served_after - served
    return Run(tool, wall, cpu, sim, done.returncode, read_counts(counts)), done.stdout, done.stderr


def ratios(pairs: Sequence[tuple[float, float]]) -> list[float]:
    """``a / b`` per pair (Costwarden over Custodian); a pair whose ``b`` is not positive has no ratio."""
    return [a / b for a, b in pairs if b > 0]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median with min-max and the count; all None for no values (never a made-up 0)."""
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def compare(pairs: Sequence[tuple[Run, Run]]) -> dict[str, Any]:
    """Ratios of wall and CPU (first tool / second tool) over alternating pairs, and each tool's medians."""
    out: dict[str, Any] = {
        "wall_ratio": summary(ratios([(a.wall_s, b.wall_s) for a, b in pairs])),
        "cpu_ratio": summary(ratios([(a.cpu_s, b.cpu_s) for a, b in pairs])),
    }
    for side in (0, 1):
        runs = [pair[side] for pair in pairs]
        served = [r.server_cpu_s for r in runs if r.server_cpu_s is not None]
        out[runs[0].tool if runs else f"tool{side}"] = {
            "wall_s": summary([r.wall_s for r in runs]),
            "cpu_s": summary([r.cpu_s for r in runs]),
            "server_cpu_s": summary(served),
        }
    return out


def fmt_range(s: dict[str, Any], unit: str = "x", digits: int = 2) -> str:
    """``1.10x (1.02-1.21x)``, or ``n/a`` without values."""
    if s["median"] is None:
        return "n/a"
    return f"{s['median']:.{digits}f}{unit} ({s['min']:.{digits}f}-{s['max']:.{digits}f}{unit})"
