"""``make bench-peer``: Costwarden beside Cloud Custodian on one moto server, measured the same way (issue 27).

For each scenario (reaper plan at 1,000 and 5,000 EC2 instances, idle finder at 1,050) the fleet is built on a
fresh server, each tool runs once to warm up (imports, the server's first requests), then ``pairs`` alternating
pairs (A then B, B then A, ...). Printed per scenario: the median ratio Costwarden / Custodian of wall and CPU with
min-max, both tools' medians and the simulator's CPU during each, every request by operation for both, and what
each flagged, by fleet category, with Costwarden's reason. The server is always stopped and the temp folder
removed (``try``/``finally``, ``with``); a setup failure is one line and exit 2.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from bench.peer import diff, fleet, measure
from bench.peer.venv import PeerSetupError, ensure_custodian

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HOOK = HERE / "hook"
LAUNCH_AGE_DAYS = 20  # older than the idle lookback (14 days), so the finder judges every instance
PRICES = {("ec2", "m5.large"): (0.096, "Hrs"), ("ebs", "gp2"): (0.10, "GB-Mo"), ("ebs", "gp3"): (0.08, "GB-Mo")}
STATE_TABLE = "costwarden-state"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """``bench.peer.server`` in its own process on 127.0.0.1 (a free port); stopped on exit, whatever happened."""

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MotoServer:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)]),
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # moto filters ~1,300 AMIs per launch otherwise
            "PEER_LAUNCH_AGE_DAYS": str(LAUNCH_AGE_DAYS),
        }
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.peer.server", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                self.stop()
                raise PeerSetupError(f"the moto server exited ({self.proc.returncode}): {' / '.join(tail)}")
            try:
                requests.get(f"{self.endpoint}/moto-api/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise PeerSetupError(f"the moto server did not answer on {self.endpoint} within 60 s")

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def reset(self) -> None:
        requests.post(f"{self.endpoint}/moto-api/reset", timeout=60).raise_for_status()

    def client_factory(self) -> Callable[[str], Any]:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=fleet.REGION
        )
        config = Config(retries={"mode": "standard", "max_attempts": 3}, read_timeout=900)
        made: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in made:
                made[service] = session.client(service, endpoint_url=self.endpoint, config=config)  # type: ignore[call-overload]
            return made[service]

        return client


def tool_env(endpoint: str, home: Path, pythonpath: list[Path], **extra: str) -> dict[str, str]:
    """What each tool's process sees: fake credentials, the server's endpoint, the counting hook first on the path."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),  # the run's temp folder: no tool reads or writes the user's ~ (caches, config)
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_DEFAULT_REGION": fleet.REGION,
        "AWS_REGION": fleet.REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "PYTHONPATH": os.pathsep.join(str(p) for p in [HOOK, *pythonpath]),
        "PEER_READ_TIMEOUT": "900",  # the simulator's 5,000-instance page takes ~30 s; botocore gives up at 60 s
        **extra,
    }


@dataclass
class Scenario:
    """One comparison: the fleet, each tool's command line and environment, and how to read their findings."""

    name: str
    costwarden: list[str]
    costwarden_env: dict[str, str]
    custodian: list[str]
    custodian_env: dict[str, str]
    policy: str


def _costwarden() -> list[str]:
    script = Path(sys.executable).with_name("costwarden")
    return [str(script)] if script.exists() else [sys.executable, "-m", "costwarden"]


def _json(text: str, where: str) -> Any:
    """A tool's JSON output, or ``PeerSetupError`` naming where it was not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        raise PeerSetupError(f"{where} is not JSON: {text.strip()[:200]!r}") from None


def _custodian(custodian: Path) -> list[str]:
    """``custodian run --dryrun`` without its resource cache (15 minutes by default: a second run would read the first
    run's listing from ~/.cache instead of the account, and a fleet rebuilt since)."""
    return [str(custodian), "run", "--dryrun", "--cache-period", "0", "-r", fleet.REGION]


def _measure(scn: Scenario, pairs: int, tmp: Path, server: MotoServer) -> dict[str, Any]:
    """Warm-up of each, then ``pairs`` alternating pairs; returns the comparison and the last outputs."""
    counts = tmp / "counts.json"
    last: dict[str, Any] = {}

    def once(tool: str, index: int) -> measure.Run:
        if tool == "costwarden":
            run, out, err = measure.run_process(tool, scn.costwarden, scn.costwarden_env, counts, server.pid)
            if run.exit_code not in (0, 1):
                raise PeerSetupError(f"costwarden exited {run.exit_code} in {scn.name}: {err.strip()[-300:]}")
            last["costwarden"] = _json(out, f"costwarden's output in {scn.name}")
        else:
            out_dir = tmp / f"c7n-{index}"
            run, out, err = measure.run_process(
                tool, [*scn.custodian, "-s", str(out_dir), scn.policy], scn.custodian_env, counts, server.pid
            )
            if run.exit_code != 0:
                raise PeerSetupError(f"custodian exited {run.exit_code} in {scn.name}: {err.strip()[-300:]}")
            files = list(out_dir.glob("*/resources.json"))
            last["custodian"] = _json(files[0].read_text(), str(files[0])) if files else []
        return run

    once("costwarden", -1)
    once("custodian", -2)
    measured: list[tuple[measure.Run, measure.Run]] = []
    for i in range(pairs):
        if i % 2 == 0:
            a = once("costwarden", i)
            b = once("custodian", i)
        else:
            b = once("custodian", i)
            a = once("costwarden", i)
        measured.append((a, b))
        print(f"    pair {i + 1}/{pairs}: Costwarden {a.wall_s:.2f} s, Custodian {b.wall_s:.2f} s", flush=True)
    return {"comparison": measure.compare(measured), "runs": measured, "last": last}


def simulator_verdict(share: dict[str, float]) -> str:
    """What the simulator's share of each wall (its CPU / the tool's wall) says about reading the wall ratio."""
    heavy = [name for name, value in share.items() if value > 0.5]
    if len(heavy) == len(share) > 1:
        return "the simulator dominates both walls: read the CPU ratio, not the wall ratio"
    if heavy:
        return f"the simulator is most of {' and '.join(heavy)}'s wall: its requests cost the server that much"
    return "the tools' own work is most of each wall"


def _requests_table(cw: dict[str, int], c7n: dict[str, int]) -> str:
    ops = sorted(set(cw) | set(c7n))
    lines = [f"  {'request':48} {'Costwarden':>10} {'Custodian':>9}"]
    lines += [f"  {op:48} {cw.get(op, 0):>10} {c7n.get(op, 0):>9}" for op in ops]
    lines.append(f"  {'total':48} {sum(cw.values()):>10} {sum(c7n.values()):>9}")
    return "\n".join(lines)


def _report(
    title: str, result: dict[str, Any], rows: list[dict[str, Any]], differences: dict[str, Any]
) -> dict[str, Any]:
    comparison = result["comparison"]
    cw_run, c7n_run = result["runs"][-1]
    cw, c7n = comparison["costwarden"], comparison["custodian"]
    print(
        f"  wall: Costwarden {measure.fmt_range(cw['wall_s'], ' s')}, "
        f"Custodian {measure.fmt_range(c7n['wall_s'], ' s')}"
    )
    print(
        f"  CPU:  Costwarden {measure.fmt_range(cw['cpu_s'], ' s')}, Custodian {measure.fmt_range(c7n['cpu_s'], ' s')}"
    )
    print(
        f"  simulator CPU during each run: Costwarden {measure.fmt_range(cw['server_cpu_s'], ' s')}, "
        f"Custodian {measure.fmt_range(c7n['server_cpu_s'], ' s')}"
    )
    print(
        f"  ratio Costwarden / Custodian over {comparison['wall_ratio']['n']} pairs: wall "
        f"{measure.fmt_range(comparison['wall_ratio'])}, CPU {measure.fmt_range(comparison['cpu_ratio'])}"
    )
    share = {
        name: side["server_cpu_s"]["median"] / side["wall_s"]["median"]
        for name, side in (("Costwarden", cw), ("Custodian", c7n))
        if side["server_cpu_s"]["median"] is not None and side["wall_s"]["median"]
    }
    if share:
        verdict = simulator_verdict(share)
        print(f"  simulator CPU / wall: {', '.join(f'{k} {v:.0%}' for k, v in share.items())} ({verdict})")
    print(_requests_table(cw_run.requests, c7n_run.requests))
    for side, name in ((0, "Costwarden"), (1, "Custodian")):
        totals = {sum(pair[side].requests.values()) for pair in result["runs"]}
        if len(totals) > 1:
            print(f"  {name}'s request total varied between runs: {min(totals)}-{max(totals)} (the last run is shown)")
    print("  what each flagged, by fleet category (Costwarden's commonest reason):")
    print(diff.render(rows))
    print(
        f"  both flagged {differences['both']}; only Costwarden {differences['only_costwarden'] or 'none'}; "
        f"only Custodian {differences['only_custodian'] or 'none'}"
    )
    return {
        "scenario": title,
        **comparison,
        "requests": {"costwarden": cw_run.requests, "custodian": c7n_run.requests},
        "categories": rows,
        "differences": differences,
    }


def reaper_scenario(server: MotoServer, custodian: Path, size: int, pairs: int, tmp: Path) -> dict[str, Any]:
    """The reaper plan on ``size`` instances: ``costwarden reap --format json`` vs ``custodian run --dryrun``."""
    title = f"reaper plan, {size:,} instances"
    print(f"\n== {title} ==", flush=True)
    server.reset()
    manifest = fleet.build_reaper_fleet(server.client_factory(), size, fleet.utc_now())
    print(f"  fleet built in {manifest.build_s:.1f} s: {manifest.count()}", flush=True)
    settings = (HERE / "reaper_settings.json").read_text()
    scn = Scenario(
        title,
        [*_costwarden(), "reap", "--format", "json"],
        tool_env(server.endpoint, tmp, [ROOT / "functions"], COSTWARDEN_SETTINGS=settings),
        [*_custodian(custodian)],
        tool_env(server.endpoint, tmp, []),
        str(HERE / "reaper.yml"),
    )
    result = _measure(scn, pairs, tmp, server)
    flagged, held = diff.reaper_flags(result["last"]["costwarden"], manifest.groups)
    matched = diff.custodian_ids(result["last"]["custodian"])
    rows = diff.by_category(manifest.categories, flagged, matched, held)
    out = _report(title, result, rows, diff.differences(manifest.categories, flagged, matched))
    return {**out, "instances": size, "fleet_build_s": round(manifest.build_s, 1), "fleet": manifest.count()}


def _seed_state(client: Callable[[str], Any]) -> None:
    """The deployed state table holding the price snapshot a warm run reads (moto 5.2 has no Price List API)."""
    from tests.support.aws import create_state_table

    dynamodb = client("dynamodb")
    create_state_table(dynamodb, STATE_TABLE)
    for (service, name), (usd, unit) in PRICES.items():
        dynamodb.put_item(
            TableName=STATE_TABLE,
            Item={
                "pk": {"S": f"price#{service}#{fleet.REGION}"},
                "sk": {"S": name},
                "usd": {"N": str(usd)},
                "unit": {"S": unit},
                "note": {"S": "on-demand list price (benchmark snapshot)"},
                "expiration": {"N": str(int(time.time()) + 30 * 86_400)},
            },
        )


def stock_moto_cost(points_per_series: int = fleet.HOURS, series: int = 1_050) -> dict[str, Any]:
    """One stock ``GetMetricStatistics`` call and one stock one-query ``GetMetricData`` on a store of this size.

    In this process, on moto's own backend (no index): what each tool's requests would cost the simulator without
    ``bench.peer.server``'s index, measured rather than assumed.
    """
    from moto.cloudwatch.models import CloudWatchBackend

    backend = CloudWatchBackend(fleet.REGION, "123456789012")
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=points_per_series)
    batch: list[dict[str, Any]] = []
    for n in range(series):
        dims = [{"Name": "InstanceId", "Value": f"i-{n:017x}"}]
        for hour in range(points_per_series):
            stamp = start + timedelta(hours=hour, minutes=30)
            batch.append({"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": stamp, "Value": 5.0})
        if len(batch) >= 10_000:
            backend.put_metric_data("AWS/EC2", batch)
            batch = []
    backend.put_metric_data("AWS/EC2", batch)
    dims = [{"Name": "InstanceId", "Value": "i-" + "0" * 17}]
    started = time.process_time()
    backend.get_metric_statistics("AWS/EC2", "CPUUtilization", start, end, 3600, ["Average"], dims)
    statistics_s = time.process_time() - started
    query = {
        "Id": "q0",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization", "Dimensions": dims},
            "Period": 3600,
            "Stat": "Average",
        },
    }
    started = time.process_time()
    backend.get_metric_data([query], start, end)
    data_s = time.process_time() - started
    return {
        "points": series * points_per_series,
        "get_metric_statistics_s": round(statistics_s, 3),
        "get_metric_data_per_query_s": round(data_s, 3),
        "custodian_extrapolated_s": round(statistics_s * series, 1),
        "costwarden_extrapolated_s": round(data_s * series, 1),
    }


def idle_scenario(server: MotoServer, custodian: Path, pairs: int, tmp: Path) -> dict[str, Any]:
    """The idle finder on 1,050 instances: ``costwarden idle --lookback-days 14`` vs Custodian's metrics filter."""
    title = f"idle finder, {sum(fleet.IDLE_MIX.values()):,} instances"
    print(f"\n== {title} ==", flush=True)
    server.reset()
    client = server.client_factory()
    _seed_state(client)
    manifest = fleet.build_idle_fleet(client, fleet.utc_now())
    print(f"  fleet built in {manifest.build_s:.1f} s: {manifest.count()}, {manifest.points:,} CPU points", flush=True)
    stock = stock_moto_cost()
    print(
        f"  stock moto on {stock['points']:,} points (CPU, this process): one GetMetricStatistics "
        f"{stock['get_metric_statistics_s']} s (x 1,050 = ~{stock['custodian_extrapolated_s']} s for Custodian), one "
        f"GetMetricData query {stock['get_metric_data_per_query_s']} s (x 1,050 = "
        f"~{stock['costwarden_extrapolated_s']} s for Costwarden): the simulator, not the tools — so both are "
        "served from bench.peer.server's index here",
        flush=True,
    )
    settings = (HERE / "idle_settings.json").read_text()
    scn = Scenario(
        title,
        [*_costwarden(), "idle", "--lookback-days", "14", "--format", "json"],
        tool_env(
            server.endpoint, tmp, [ROOT / "functions"], COSTWARDEN_SETTINGS=settings, STATE_TABLE_NAME=STATE_TABLE
        ),
        [*_custodian(custodian)],
        tool_env(server.endpoint, tmp, []),
        str(HERE / "idle.yml"),
    )
    result = _measure(scn, pairs, tmp, server)
    flagged = diff.idle_flags(result["last"]["costwarden"])
    matched = diff.custodian_ids(result["last"]["custodian"])
    rows = diff.by_category(manifest.categories, flagged, matched)
    out = _report(title, result, rows, diff.differences(manifest.categories, flagged, matched))
    totals = result["last"]["costwarden"].get("totals", {})
    print(
        f"  Costwarden's totals: busy {totals.get('busy')}, not judged {totals.get('not_judged')}, "
        f"findings {totals.get('findings')}"
    )
    return {
        **out,
        "instances": len(manifest.categories),
        "points": manifest.points,
        "fleet_build_s": round(manifest.build_s, 1),
        "stock_moto": stock,
    }


def _load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min), {os.cpu_count()} CPUs"


def summary_table(rows: list[dict[str, Any]]) -> str:
    """The README's table: one line per scenario."""
    lines = [
        "| scenario | Costwarden wall (median) | Custodian wall (median) | wall ratio, median (min-max) | "
        "CPU ratio, median (min-max) | requests Costwarden / Custodian |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        requests_cw = sum(r["requests"]["costwarden"].values())
        requests_c7n = sum(r["requests"]["custodian"].values())
        lines.append(
            f"| {r['scenario']} | {measure.fmt_range(r['costwarden']['wall_s'], ' s')} | "
            f"{measure.fmt_range(r['custodian']['wall_s'], ' s')} | {measure.fmt_range(r['wall_ratio'])} | "
            f"{measure.fmt_range(r['cpu_ratio'])} | {requests_cw} / {requests_c7n} |"
        )
    return "\n".join(lines)


def run(pairs: int = 5, sizes: tuple[int, ...] = (1_000, 5_000), idle: bool = True) -> dict[str, Any]:
    """The whole benchmark; raises ``PeerSetupError`` when it cannot run (the caller prints it and exits 2)."""
    if pairs < 1:
        raise PeerSetupError(f"--pairs must be at least 1, got {pairs}")
    started = time.perf_counter()
    custodian = ensure_custodian(ROOT)
    print(f"Cloud Custodian: {custodian} (c7n 0.9.53); {_load()}", flush=True)
    rows: list[dict[str, Any]] = []
    loads = [_load()]
    with tempfile.TemporaryDirectory(prefix="costwarden-peer-") as tmp_name:
        tmp = Path(tmp_name)
        with MotoServer(tmp / "moto.log") as server:
            for size in sizes:
                rows.append(reaper_scenario(server, custodian, size, pairs, tmp))
                loads.append(_load())
            if idle:
                rows.append(idle_scenario(server, custodian, pairs, tmp))
                loads.append(_load())
    print("\n== summary (Costwarden / Custodian; whole processes, alternating pairs after one warm-up each) ==")
    print(summary_table(rows))
    print(f"during the run: {'; '.join(loads)}; {time.perf_counter() - started:.0f} s in all")
    return {"scenarios": rows, "loads": loads, "pairs": pairs}
