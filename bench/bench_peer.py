"""Costwarden beside Cloud Custodian (issue 27).

``python -m bench bench_peer`` (and ``make bench``) runs the part that needs nothing installed: the idle judge's CPU at
350,000 points (``bench/peer/judge.py``). ``make bench-peer`` (``python -m bench.bench_peer --peer``) runs the whole
comparison (``bench/peer/harness.py``): Custodian 0.9.53 in its own venv, one moto server, both tools' requests
counted by one hook, whole processes timed in alternating pairs, and what each flagged.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import requests  # noqa: E402

from bench.peer import judge  # noqa: E402
from bench.peer.venv import PeerSetupError  # noqa: E402

OUT = ROOT / "bench-out" / "peer.json"


def main() -> dict[str, Any]:
    return {"idle_judge": judge.main()}


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated instance counts, got {text!r}") from None
    if not sizes or any(n < 100 for n in sizes):
        raise argparse.ArgumentTypeError(f"--sizes: each reaper fleet needs at least 100 instances, got {text!r}")
    return sizes


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_peer", description=__doc__.splitlines()[0])
    parser.add_argument("--peer", action="store_true", help="run the comparison with Cloud Custodian (make bench-peer)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs per scenario after the warm-up (5)")
    parser.add_argument("--sizes", type=_sizes, default=(1_000, 5_000), help="reaper fleet sizes (1000,5000)")
    parser.add_argument("--no-idle", action="store_true", help="skip the idle scenario")
    parser.add_argument("--no-reaper", action="store_true", help="skip the reaper scenarios")
    args = parser.parse_args(argv)
    if not args.peer:
        main()
        return 0
    from bench.peer import harness

    try:
        results = harness.run(pairs=args.pairs, sizes=() if args.no_reaper else args.sizes, idle=not args.no_idle)
    except PeerSetupError as error:
        print(f"bench-peer: cannot run: {error}", file=sys.stderr)
        return 2
    except subprocess.TimeoutExpired as error:
        print(
            f"bench-peer: a tool ran longer than {error.timeout:.0f} s: {' '.join(map(str, error.cmd))}",
            file=sys.stderr,
        )
        return 2
    except (requests.RequestException, OSError) as error:  # the simulator stopped answering, a disk filled up
        print(f"bench-peer: stopped: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench-peer: interrupted (the server was stopped)", file=sys.stderr)
        return 130
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=str))
    print(f"results written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli(sys.argv[1:]))
