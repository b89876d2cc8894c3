"""Lambda bundle sizes (unzipped) and cold import times, built exactly as ``make synth`` builds them.

Sizes are measured on the real arm64 bundles (``manylinux_2_28_aarch64``). The arm64 ``.so`` files cannot load on
this x86_64 machine, so cold imports are measured on an x86_64 build of the *same* requirements, trimmed and
compiled the same way, with a Python of the target version, ``-I`` (no user site, no ``PYTHONPATH``), the bundle
first on ``sys.path`` and the lock's boto3/botocore (what Lambda's runtime provides) after it. Each number is the
median of 5 fresh interpreter processes; the OS file cache is warm, so it is a lower bound for a real cold start.

Budgets (issue 2 / DESIGN.md): light bundle (notifier, reaper, tag audit) <= 15 MB and free of pandas, numpy,
scipy; analytics bundle (cost monitor) <= 200 MB (Lambda's hard limit is 250 MB unzipped).
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "functions"), str(Path(__file__).resolve().parent.parent)]

from infra import constants  # noqa: E402
from infra.bundling import (  # noqa: E402
    Bundle,
    assemble,
    compile_bytecode,
    find_target_python,
    install_requirements,
    runtime_provided_requirements,
)

OUT = Path("bench-out") / "bundles"
X86_PLATFORM = "manylinux_2_28_x86_64"
BUDGET_MB = {Bundle.LIGHT: 15.0, Bundle.ANALYTICS: 200.0}
HEAVY = ("pandas", "numpy", "scipy", "pyarrow")
RUNS = 5

#: What each function imports at cold start: its handler when it exists on this branch, else the modules every
#: function of that bundle loads (observability, settings, SNS publish, plus Slack or pandas/scipy).
FUNCTIONS: dict[str, tuple[Bundle, str, tuple[str, ...]]] = {
    "notifier": (
        Bundle.LIGHT,
        "costwarden.handlers.notifier",
        (
            "costwarden.handlers.observability",
            "costwarden.settings",
            "costwarden.adapters.sns",
            "slack_sdk.webhook",
            "aws_lambda_powertools.utilities.idempotency",
        ),
    ),
    "reaper": (
        Bundle.LIGHT,
        "costwarden.handlers.reaper",
        ("costwarden.handlers.observability", "costwarden.settings", "costwarden.adapters.state", "boto3"),
    ),
    "cost_monitor": (
        Bundle.ANALYTICS,
        "costwarden.handlers.cost_monitor",
        (
            "costwarden.handlers.observability",
            "costwarden.settings",
            "costwarden.adapters.sns",
            "pandas",
            "scipy.stats",
        ),
    ),
}


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def build(bundle: Bundle, platform: str) -> Path:
    folder = OUT / f"{bundle.value}-{platform}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    assemble(bundle, folder, platform=platform)
    return folder


def build_runtime(python: str) -> Path:
    """The lock's boto3 & co. for x86_64: stands in for what Lambda's runtime puts on ``sys.path``."""
    folder = OUT / "runtime-provided"
    if not folder.exists():
        install_requirements(runtime_provided_requirements(), folder, platform=X86_PLATFORM, python=python)
        compile_bytecode(folder, python)
    return folder


def cold_import_ms(python: str, paths: list[Path], modules: tuple[str, ...]) -> float:
    code = (
        "import sys, time\n"
        f"sys.path[:0] = {[str(p.resolve()) for p in paths]!r}\n"
        "t = time.perf_counter()\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print((time.perf_counter() - t) * 1000)\n"
    )
    timings = []
    for _ in range(RUNS):
        env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "bench"}
        result = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, check=True, env=env)
        timings.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def main() -> list[dict[str, Any]]:
    python = find_target_python()
    rows: list[dict[str, Any]] = []
    arm = {bundle: build(bundle, constants.TARGET_PLATFORM) for bundle in Bundle}
    for bundle, folder in arm.items():
        size_mb = tree_bytes(folder) / 1e6
        heavy = sorted(name for name in HEAVY if (folder / name).exists())
        rows.append(
            {
                "measure": f"{bundle.value} bundle, unzipped (arm64)",
                "value": round(size_mb, 1),
                "unit": "MB",
                "budget": BUDGET_MB[bundle],
                "ok": size_mb <= BUDGET_MB[bundle] and (bundle is Bundle.ANALYTICS or not heavy),
                "note": f"heavy packages present: {heavy or 'none'}",
            }
        )
    if python is None:
        print(f"no Python {constants.TARGET_PYTHON_VERSION}: cold import times skipped")
    else:
        runtime = build_runtime(python)
        x86 = {bundle: build(bundle, X86_PLATFORM) for bundle in Bundle}
        for name, (bundle, handler, fallback) in FUNCTIONS.items():
            has_handler = (x86[bundle] / Path(*handler.split("."))).with_suffix(".py").exists()
            modules = (handler,) if has_handler else fallback
            ms = cold_import_ms(python, [x86[bundle], runtime], modules)
            rows.append(
                {
                    "measure": f"{name} cold import ({bundle.value}, x86_64, py{constants.TARGET_PYTHON_VERSION})",
                    "value": round(ms),
                    "unit": "ms",
                    "budget": None,
                    "ok": True,
                    "note": f"imported {handler}" if has_handler else f"no handler yet; imported {', '.join(modules)}",
                }
            )
    print(f"{'measure':<72} {'value':>8} {'unit':<4} {'budget':>7}  ok  note")
    for row in rows:
        budget = "" if row["budget"] is None else row["budget"]
        mark = "✓" if row["ok"] else "✗"
        print(f"{row['measure']:<72} {row['value']:>8} {row['unit']:<4} {budget!s:>7}  {mark}  {row['note']}")
    return rows


if __name__ == "__main__":
    if importlib.util.find_spec("aws_cdk") is None:
        raise SystemExit("run inside the project's virtual environment (make bench)")
    main()
