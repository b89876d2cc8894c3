"""Run every benchmark module (``bench/bench_*.py``) in turn; each prints its own table and returns its rows."""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

OUT = Path("bench-out")


def main() -> int:
    names = sys.argv[1:] or sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    # bench_interact: the Slack endpoint's cold start and p99 time to acknowledge (issue 13), picked up by the glob.
    # bench_k8s: a month of EKS split rows (2,000 pods on 200 nodes), read vs allocate (issue 24), by the glob too.
    # bench_burn: 10,000 launch events in one batch, Price List requests per distinct type and region (issue 25).
    # bench_peer: the idle judge's CPU only; the side-by-side with Cloud Custodian is `make bench-peer` (issue 27).
    OUT.mkdir(exist_ok=True)
    results = {}
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        results[name] = module.main()
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults written to {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
