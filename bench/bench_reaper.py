"""Reaper at scale: plan N tagged EC2 instances over 2 regions on a local moto server (127.0.0.1).

Reports wall time and the number of AWS requests per operation (every HTTP request botocore sends, counted with a
``before-send`` hook), for N = 2,000 and 10,000: requests grow with pages (tagging API: 100 per page) and
describe batches (200 ids per call), not with resources. A third scenario applies a plan of 1,000 terminations
in one region (cap raised to 1,000) to show ``TerminateInstances`` batching (up to 1,000 ids per call) and the
one per-candidate call (``DescribeInstanceAttribute``, termination protection), bounded by the cap (default 25).
moto pages the tagging API by tags as well as resources (100 tags per page: ~33 three-tag resources) and scans its
whole store per page, so wall times here are dominated by the simulator; the pure planning time is shown apart.
Finally the reaper handler's cold import time (median of 5 fresh interpreters, dev venv) and that it imports no
pandas/numpy/scipy.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import boto3  # noqa: E402
import requests  # noqa: E402
from botocore.config import Config  # noqa: E402
from costwarden.adapters.state import MemoryStateStore  # noqa: E402
from costwarden.reaper.execute import run_reaper  # noqa: E402
from costwarden.settings import parse_settings  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1")
BATCH = 500
SIZES = (2_000, 10_000)
IMPORT_RUNS = 5


class CountingClients:
    """The reaper's client factory, bound to the local server, counting every request by operation."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        self.cache: dict[tuple[str, str], Any] = {}
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def _count(self, **kwargs: Any) -> None:
        with self.lock:
            self.calls[str(kwargs["event_name"]).rsplit(".", 1)[-1]] += 1

    def __call__(self, service: str, region: str) -> Any:
        with self.lock:
            if (service, region) not in self.cache:
                client = self.session.client(  # type: ignore[call-overload]
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=20),
                )
                client.meta.events.register("before-send", self._count)
                self.cache[(service, region)] = client
            return self.cache[(service, region)]


def _populate(clients: CountingClients, per_region: int, regions: tuple[str, ...]) -> float:
    started = time.perf_counter()
    for region in regions:
        ec2 = clients("ec2", region)
        left = per_region
        while left:
            n = min(BATCH, left)
            ec2.run_instances(
                ImageId="ami-12345678",
                MinCount=n,
                MaxCount=n,
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [
                            {"Key": "expires_at", "Value": "2026-01-01"},
                            {"Key": "team", "Value": "vision"},
                            {"Key": "environment", "Value": "experiment"},
                        ],
                    }
                ],
            )
            left -= n
    clients.calls.clear()
    return time.perf_counter() - started


def _scenario(
    endpoint: str, label: str, per_region: int, regions: tuple[str, ...], apply: bool, cap: int
) -> dict[str, Any]:
    requests.post(f"{endpoint}/moto-api/reset", timeout=30)
    clients = CountingClients(endpoint)
    setup = _populate(clients, per_region, regions)
    settings = parse_settings({"reaper": {"max_actions_per_run": cap}})
    started = time.perf_counter()
    result = run_reaper(settings, regions=regions, clients=clients, state=MemoryStateStore(), dry_run=not apply)
    wall = time.perf_counter() - started
    return {
        "scenario": label,
        "instances": per_region * len(regions),
        "regions": len(regions),
        "wall_s": round(wall, 2),
        "requests": sum(clients.calls.values()),
        "by_operation": dict(sorted(clients.calls.items())),
        "counts": result.counts(),
        "blocked": result.blocked,
        "setup_s": round(setup, 1),
    }


def _pure_planning(n: int) -> dict[str, Any]:
    """The planning step alone (no AWS) on ``n`` resources: what the reaper itself costs per resource."""
    from datetime import UTC, datetime

    from costwarden.reaper.plan import make_plan
    from costwarden.resources.model import Resource

    resources = [
        Resource(
            arn=f"arn:aws:ec2:us-east-1:123456789012:instance/i-{i:017x}",
            type="ec2:instance",
            region="us-east-1",
            id=f"i-{i:017x}",
            key=f"i-{i:017x}",
            tags={"team": "vision", "expires_at": "2026-01-01" if i % 2 else "2099-01-01", "environment": "experiment"},
            state="running",
        )
        for i in range(n)
    ]
    started = time.perf_counter()
    plan = make_plan(resources, parse_settings({}), datetime(2026, 11, 27, tzinfo=UTC))
    return {"resources": n, "seconds": round(time.perf_counter() - started, 3), "decisions": len(plan.decisions)}


def _cold_import() -> dict[str, Any]:
    code = (
        "import sys, time; t = time.perf_counter(); import costwarden.handlers.reaper; d = time.perf_counter() - t;"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('pandas', 'numpy', 'scipy', 'pyarrow')];"
        "print(d, len(heavy))"
    )
    env = {"PYTHONPATH": str(ROOT / "functions"), "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    times, heavy = [], set()
    for _ in range(IMPORT_RUNS):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        seconds, count = out.stdout.split()
        times.append(float(seconds))
        heavy.add(int(count))
    return {"median_s": round(statistics.median(times), 3), "heavy_modules": max(heavy)}


def main() -> list[dict[str, Any]]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    rows: list[dict[str, Any]] = []
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for size in SIZES:
            rows.append(_scenario(endpoint, f"plan {size:,}", size // len(REGIONS), REGIONS, apply=False, cap=25))
        rows.append(_scenario(endpoint, "apply 1,000", 1_000, REGIONS[:1], apply=True, cap=1_000))
    finally:
        server.stop()
    print(f"{'scenario':12} {'instances':>9} {'wall s':>7} {'requests':>8}  by operation")
    for row in rows:
        ops = ", ".join(f"{k} {v}" for k, v in row["by_operation"].items())
        print(f"{row['scenario']:12} {row['instances']:>9,} {row['wall_s']:>7} {row['requests']:>8}  {ops}")
        print(f"{'':12} counts {row['counts']} blocked={row['blocked']} (moto setup {row['setup_s']} s)")
    pure = _pure_planning(10_000)
    print(f"planning alone (pure, no AWS) on {pure['resources']:,} resources: {pure['seconds']} s")
    rows.append({"scenario": "pure planning", **pure})
    imported = _cold_import()
    print(
        f"cold import of costwarden.handlers.reaper: {imported['median_s']} s (median of {IMPORT_RUNS}); "
        f"pandas/numpy/scipy/pyarrow modules loaded: {imported['heavy_modules']}"
    )
    rows.append({"scenario": "cold import", **imported})
    return rows


if __name__ == "__main__":
    main()
