"""Idle finder at scale: 10,000 EC2 instances over 2 regions on a local moto server (127.0.0.1).

Per region 5,000 instances (4,750 m5.large, 250 g5.xlarge GPU boxes), a week of hourly CPU histories for 4 of them
and GPU histories for 2 GPU boxes: moto's ``GetMetricData`` walks every stored data point once per query *and per
period* (168 hourly periods a query), so its cost is queries x 168 x stored points; the histories are kept small
and the queries are issued for every instance all the same. moto's ~1,300 default AMIs are not loaded
(``MOTO_EC2_LOAD_DEFAULT_AMIS=false``): moto filters them once per launched instance, which made setup dominate.

Reports every AWS request by operation and region (a ``before-send`` hook), checks ``GetMetricData`` calls
<= 2 x ceil(metrics / 500) per region, the scan's own CloudWatch cost, wall time, and the handler's cold import
(median of 5 fresh interpreters; no pandas/numpy/scipy).
Wall time is moto's (``GetMetricData`` as above, serialising 5,000-instance ``DescribeInstances`` pages), not the
finder's: its requests grow with pages and 500-query batches, not with instances.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import boto3  # noqa: E402
import requests  # noqa: E402
from botocore.config import Config  # noqa: E402
from costwarden.adapters.state import MemoryStateStore  # noqa: E402
from costwarden.idle.run import run_idle  # noqa: E402
from costwarden.services.idle import aws_ports  # noqa: E402
from costwarden.settings import parse_settings  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1")
#: Instances in all, 5 % of them GPU boxes (``BENCH_IDLE_INSTANCES`` overrides, e.g. 2000 for a quick run: the
#: 10,000 run takes minutes of moto time on a loaded 2-core machine, see the README's benchmark table).
TOTAL = int(os.environ.get("BENCH_IDLE_INSTANCES", "10000"))
PER_REGION = TOTAL // len(REGIONS)
GPU_PER_REGION = PER_REGION // 20
WITH_CPU_DATA = 4
WITH_GPU_DATA = 2
IMPORT_RUNS = 5
PRICES = {("ec2", "m5.large"): 0.096, ("ec2", "g5.xlarge"): 1.006}


class CountingClients:
    """The finder's client factory, bound to the local server, counting requests by (region, operation)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        self.cache: dict[tuple[str, str], Any] = {}
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()

    def __call__(self, service: str, region: str) -> Any:
        with self.lock:
            if (service, region) not in self.cache:
                client = self.session.client(  # type: ignore[call-overload]
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint,
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=20, read_timeout=900
                    ),
                )

                def count(event_name: str, _region: str = region, **_: Any) -> None:
                    with self.lock:
                        self.calls[(_region, event_name.rsplit(".", 1)[-1])] += 1

                client.meta.events.register("before-send", count)
                self.cache[(service, region)] = client
            return self.cache[(service, region)]


def _populate(clients: CountingClients, now: datetime) -> float:
    started = time.perf_counter()
    for region in REGIONS:
        ec2, cw = clients("ec2", region), clients("cloudwatch", region)
        ids: dict[str, list[str]] = {"m5.large": [], "g5.xlarge": []}
        for instance_type, count in (("m5.large", PER_REGION - GPU_PER_REGION), ("g5.xlarge", GPU_PER_REGION)):
            left = count
            while left:
                n = min(500, left)
                out = ec2.run_instances(
                    ImageId="ami-12345678",
                    MinCount=n,
                    MaxCount=n,
                    InstanceType=instance_type,
                    TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "vision"}]}],
                )
                ids[instance_type] += [i["InstanceId"] for i in out["Instances"]]
                left -= n
        hours = [now - timedelta(hours=h) for h in range(1, 169)]
        for instance_id in ids["m5.large"][:WITH_CPU_DATA] + ids["g5.xlarge"][:WITH_GPU_DATA]:
            dims = [{"Name": "InstanceId", "Value": instance_id}]
            data = [{"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": t, "Value": 3.0} for t in hours]
            cw.put_metric_data(Namespace="AWS/EC2", MetricData=data)
        for instance_id in ids["g5.xlarge"][:WITH_GPU_DATA]:
            dims = [{"Name": "InstanceId", "Value": instance_id}, {"Name": "index", "Value": "0"}]
            data = [
                {"MetricName": "nvidia_smi_utilization_gpu", "Dimensions": dims, "Timestamp": t, "Value": 1.0}
                for t in hours
            ]
            cw.put_metric_data(Namespace="CWAgent", MetricData=data)
    clients.calls.clear()
    return time.perf_counter() - started


def _scan(endpoint: str) -> dict[str, Any]:
    requests.post(f"{endpoint}/moto-api/reset", timeout=30)
    clients = CountingClients(endpoint)
    # moto stamps launch times with the real clock: scan 10 days "later" so every instance is older than the lookback
    now = datetime.now(UTC) + timedelta(days=10)
    setup = _populate(clients, now)
    print(f"  populated {PER_REGION * len(REGIONS):,} instances in {setup:.0f} s; scanning", flush=True)
    state = MemoryStateStore()
    for region in REGIONS:
        for (service, name), usd in PRICES.items():
            state.put(f"price#{service}#{region}", name, {"usd": usd, "unit": "Hrs", "note": ""})
    settings = parse_settings({})
    ports = aws_ports(clients, state, settings)
    started = time.perf_counter()
    run = run_idle(settings, regions=REGIONS, ports=ports, store=state, now=now)
    wall = time.perf_counter() - started
    summary = run.summary()
    per_region = {region: {op: n for (r, op), n in clients.calls.items() if r == region} for region in REGIONS}
    metrics_per_region = summary["metrics_queried"] / len(REGIONS)
    bound = 2 * math.ceil(metrics_per_region / 500)
    return {
        "scenario": f"scan {PER_REGION * len(REGIONS):,}",
        "instances": PER_REGION * len(REGIONS),
        "wall_s": round(wall, 2),
        "setup_s": round(setup, 1),
        "metrics_queried": summary["metrics_queried"],
        "scan_cost_usd": summary["scan_cost_usd"],
        "by_region": per_region,
        "get_metric_data_bound_per_region": bound,
        "get_metric_data_ok": all(ops.get("GetMetricData", 0) <= bound for ops in per_region.values()),
        "findings": summary["findings"],
        "kinds": summary["kinds"],
        "not_judged": summary["not_judged"],
        "waste_usd_per_month": summary["waste_usd_per_month"],
        "errors": summary["errors"][:3],
    }


def _cold_import() -> dict[str, Any]:
    code = (
        "import sys, time; t = time.perf_counter(); import costwarden.handlers.idle; d = time.perf_counter() - t;"
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
    from costwarden.demo.moto_capacity import install
    from moto.server import ThreadedMotoServer

    install()  # moto lacks EC2 Capacity Reservations, which the idle scan lists

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # read by moto when the reset in _scan rebuilds its EC2 backends; restored for the benches that follow
    saved = os.environ.get("MOTO_EC2_LOAD_DEFAULT_AMIS")
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        row = _scan(f"http://{host}:{port}")
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("MOTO_EC2_LOAD_DEFAULT_AMIS", None)
        else:
            os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = saved
    print(
        f"{row['scenario']}: wall {row['wall_s']} s (moto setup {row['setup_s']} s); {row['metrics_queried']:,} metrics"
    )
    for region, ops in row["by_region"].items():
        listed = ", ".join(f"{op} {n}" for op, n in sorted(ops.items()))
        print(f"  {region}: {listed}")
    print(
        f"  GetMetricData per region <= 2 x ceil(metrics / 500) = {row['get_metric_data_bound_per_region']}: "
        f"{'yes' if row['get_metric_data_ok'] else 'NO'}; scan's own CloudWatch cost {row['scan_cost_usd']} USD"
    )
    print(f"  findings {row['findings']} {row['kinds']}; not judged {row['not_judged']}; errors {row['errors']}")
    imported = _cold_import()
    print(
        f"cold import of costwarden.handlers.idle: {imported['median_s']} s (median of {IMPORT_RUNS}); "
        f"pandas/numpy/scipy/pyarrow modules loaded: {imported['heavy_modules']}"
    )
    return [row, {"scenario": "cold import", **imported}]


if __name__ == "__main__":
    main()
