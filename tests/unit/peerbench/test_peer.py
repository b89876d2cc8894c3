"""The peer benchmark's pure pieces (issue 27 part 1): no Custodian install, no server, no network.

Hostile inputs first (a counts file that is not the hook's, a venv that cannot be made, a fleet too small to hold
its edge cases), then the arithmetic, the counting hook (the same file both tools load at start-up), the semantic
diff and the simulator index that must answer exactly as moto does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber

from bench import bench_peer
from bench.peer import diff, fleet, measure, server, venv

HOOK = Path(bench_peer.ROOT) / "bench" / "peer" / "hook" / "sitecustomize.py"


@pytest.fixture
def fresh_hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Makes fresh copies of the hook; botocore's ``create_client`` is restored after the test (no wrapper leaks)."""
    import botocore.session

    monkeypatch.setattr(botocore.session.Session, "create_client", botocore.session.Session.create_client)
    return _hook


def _hook() -> ModuleType:
    """A fresh copy of the hook module (its counter starts at zero)."""
    spec = importlib.util.spec_from_file_location("peer_hook_under_test", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Responder:
    """A ``before-send`` handler answering instead of the network: the given statuses in turn, then 200."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        status = self.statuses.pop(0) if self.statuses else 200
        body = b"<Error><Code>InternalError</Code></Error>" if status >= 500 else b"<DescribeRegionsResponse/>"
        return AWSResponse(request.url, status, HTTPHeaders(), _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


# --- hostile input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"requests": [1]}', '{"requests": {"ec2.X": "3"}}'])
def test_counts_that_are_not_the_hooks_read_as_none(tmp_path: Path, text: str) -> None:
    path = tmp_path / "counts.json"
    path.write_text(text)
    assert measure.read_counts(path) == {}


def test_missing_counts_file_reads_as_none(tmp_path: Path) -> None:
    assert measure.read_counts(tmp_path / "absent.json") == {}


def test_no_uv_anywhere_is_a_setup_error_naming_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("PEER_UV", raising=False)
    with pytest.raises(venv.PeerSetupError, match=r"uv not found \(PEER_UV, PATH, \.build/uv/bin/uv\)"):
        venv.ensure_custodian(tmp_path)


def test_a_failing_uv_is_a_setup_error_with_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uv = tmp_path / "uv"
    uv.write_text("#!/bin/sh\necho 'no interpreter found for 3.12' >&2\nexit 2\n")
    uv.chmod(0o755)
    monkeypatch.setenv("PEER_UV", str(uv))
    with pytest.raises(venv.PeerSetupError, match=r"uv venv .* failed \(exit 2\): no interpreter found for 3\.12"):
        venv.ensure_custodian(tmp_path)


def test_an_installed_pin_runs_no_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path
    peer = venv.venv_dir(root)
    (peer / "bin").mkdir(parents=True)
    (peer / "bin" / "python").write_text("")
    (peer / "bin" / "custodian").write_text("")
    (peer / "lib" / "python3.12" / "site-packages" / "c7n-0.9.53.dist-info").mkdir(parents=True)
    monkeypatch.setenv("PEER_UV", str(tmp_path / "uv-that-would-fail"))
    assert venv.ensure_custodian(root) == peer / "bin" / "custodian"


def test_another_c7n_version_is_not_the_pin(tmp_path: Path) -> None:
    peer = venv.venv_dir(tmp_path)
    (peer / "bin").mkdir(parents=True)
    (peer / "bin" / "python").write_text("")
    (peer / "lib" / "python3.12" / "site-packages" / "c7n-0.9.52.dist-info").mkdir(parents=True)
    assert not venv.installed(peer)


def test_bad_pairs_exit_2_with_a_message_and_install_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_peer.cli(["--peer", "--pairs", "0"]) == 2
    assert capsys.readouterr().err == "bench-peer: cannot run: --pairs must be at least 1, got 0\n"


@pytest.mark.parametrize("sizes", ["abc", "1000,", "50"])
def test_bad_sizes_are_refused_by_the_parser(sizes: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        bench_peer.cli(["--peer", "--sizes", sizes])
    assert stop.value.code == 2
    assert "--sizes" in capsys.readouterr().err


def test_a_fleet_too_small_for_its_edge_cases_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 70 instances, got 69"):
        fleet.reaper_mix(69)


# --- the arithmetic ----------------------------------------------------------------------------------------------


def test_ratios_median_and_range() -> None:
    values = measure.ratios([(2.0, 1.0), (3.0, 2.0), (1.0, 4.0), (5.0, 0.0)])
    assert values == [2.0, 1.5, 0.25]  # the pair with nothing to divide by has no ratio
    assert measure.summary(values) == {"median": 1.5, "min": 0.25, "max": 2.0, "n": 3}
    assert measure.fmt_range(measure.summary(values)) == "1.50x (0.25-2.00x)"


def test_no_values_is_no_number() -> None:
    assert measure.summary([]) == {"median": None, "min": None, "max": None, "n": 0}
    assert measure.fmt_range(measure.summary([])) == "n/a"


def test_compare_over_pairs_names_each_tool() -> None:
    def run(tool: str, wall: float, cpu: float, sim: float | None) -> measure.Run:
        return measure.Run(tool, wall, cpu, sim, 0)

    pairs = [
        (run("costwarden", 2.0, 1.0, 0.5), run("custodian", 4.0, 1.0, 2.0)),
        (run("costwarden", 3.0, 2.0, None), run("custodian", 3.0, 1.0, 1.0)),
    ]
    out = measure.compare(pairs)
    assert out["wall_ratio"] == {"median": 0.75, "min": 0.5, "max": 1.0, "n": 2}
    assert out["cpu_ratio"] == {"median": 1.5, "min": 1.0, "max": 2.0, "n": 2}
    assert out["costwarden"]["server_cpu_s"] == {"median": 0.5, "min": 0.5, "max": 0.5, "n": 1}
    assert out["custodian"]["wall_s"]["median"] == 3.5


def test_run_process_measures_the_child_and_reads_its_counts(tmp_path: Path) -> None:
    counts = tmp_path / "counts.json"
    code = (
        "import json, os\n"
        "json.dump({'requests': {'sts.GetCallerIdentity': 2}}, open(os.environ['PEER_COUNT_OUT'], 'w'))"
    )
    run, out, err = measure.run_process("t", [sys.executable, "-c", code], dict(os.environ), counts, os.getpid())
    assert (run.exit_code, run.requests, out, err) == (0, {"sts.GetCallerIdentity": 2}, "", "")
    assert run.wall_s > 0 and run.cpu_s > 0 and run.server_cpu_s is not None


# --- the counting hook ------------------------------------------------------------------------------------------


def _ec2(hook: ModuleType) -> Any:
    hook.install()
    return boto3.session.Session().client("ec2", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")


def test_every_http_attempt_is_counted_retries_included(fresh_hook: Any) -> None:
    hook = fresh_hook()
    ec2 = _ec2(hook)
    ec2.meta.events.register("before-send", _Responder(500))  # after the counter: it counts, then this answers
    ec2.describe_regions()
    ec2.describe_regions()
    assert dict(hook.COUNTS) == {"ec2.DescribeRegions": 3}  # one retry after the 500, then one more call


def test_a_stubbed_call_sends_nothing_and_counts_nothing(fresh_hook: Any) -> None:
    hook = fresh_hook()
    ec2 = _ec2(hook)
    with Stubber(ec2) as stub:
        stub.add_response("describe_regions", {"Regions": []})
        ec2.describe_regions()
    assert dict(hook.COUNTS) == {}


def test_install_twice_counts_once(fresh_hook: Any) -> None:
    hook = fresh_hook()
    hook.install()
    ec2 = _ec2(hook)
    ec2.meta.events.register("before-send", _Responder())
    ec2.describe_regions()
    assert dict(hook.COUNTS) == {"ec2.DescribeRegions": 1}


def test_the_hook_counts_a_whole_process_and_writes_at_exit(tmp_path: Path) -> None:
    """As both tools run it: the folder first on PYTHONPATH, the counts file named by PEER_COUNT_OUT."""
    out = tmp_path / "counts.json"
    script = (
        "import boto3\n"
        "from botocore.awsrequest import AWSResponse, HTTPHeaders\n"
        "class Raw:\n"
        "    def stream(self, **_):\n"
        "        yield b'<GetCallerIdentityResponse><GetCallerIdentityResult><Account>1</Account>'\n"
        "        yield b'</GetCallerIdentityResult></GetCallerIdentityResponse>'\n"
        "c = boto3.client('sts', region_name='us-east-1', endpoint_url='http://127.0.0.1:9')\n"
        "c.meta.events.register('before-send', lambda request, **_: AWSResponse(request.url, 200, {}, Raw()))\n"
        "c.get_caller_identity(); c.get_caller_identity()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HOOK.parent), os.environ.get("PYTHONPATH", "")])}
    env["PEER_COUNT_OUT"] = str(out)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    assert json.loads(out.read_text()) == {"requests": {"sts.GetCallerIdentity": 2}}


def test_without_its_variable_the_hook_changes_nothing(tmp_path: Path) -> None:
    script = "import sys, sitecustomize; print('botocore' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "PEER_COUNT_OUT"}
    env["PYTHONPATH"] = str(HOOK.parent)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_unwritable_counts_path_is_said_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hook = _hook()
    hook.write(str(tmp_path / "no-such-dir" / "counts.json"))
    assert "peer request counter: cannot write" in capsys.readouterr().err


# --- the semantic diff ------------------------------------------------------------------------------------------


def _envelope() -> dict[str, Any]:
    def row(arn: str, kind: str, status: str, action: str, reason: str) -> dict[str, Any]:
        return {"arn": arn, "type": kind, "status": status, "action": action, "reason": reason}

    ec2 = "arn:aws:ec2:us-east-1:123456789012:instance/"
    asg = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/train"
    return {
        "results": [
            row(ec2 + "i-1", "ec2:instance", "planned", "terminate", "expired since 2026-12-01T00:00:00Z"),
            row(ec2 + "i-2", "ec2:instance", "skipped", "none", "protected by costwarden:protect=true"),
            row(
                ec2 + "i-3", "ec2:instance", "skipped", "none", "member of autoscaling:group train: acted on through it"
            ),
            row(asg, "autoscaling:group", "planned", "delete", "expired since 2026-12-01T00:00:00Z"),
        ]
    }


def test_reaper_flags_count_a_group_decision_for_its_members() -> None:
    flagged, held = diff.reaper_flags(_envelope(), {"train": ["i-3", "i-4"]})
    assert flagged == {
        "i-1": "expired since 2026-12-01T00:00:00Z",
        "i-3": "through its group: delete train (expired since 2026-12-01T00:00:00Z)",
        "i-4": "through its group: delete train (expired since 2026-12-01T00:00:00Z)",
    }
    assert held == {"i-2": "skipped: protected by costwarden:protect=true"}


def test_differences_and_categories_name_who_flagged_what() -> None:
    categories = {"i-1": "expired", "i-2": "protected", "i-3": "asg", "i-4": "asg", "i-5": "future"}
    flagged, held = diff.reaper_flags(_envelope(), {"train": ["i-3", "i-4"]})
    custodian = diff.custodian_ids([{"InstanceId": i} for i in ("i-1", "i-2", "i-3", "i-4", "i-9")])
    assert diff.differences(categories, flagged, custodian) == {
        "both": 3,
        "only_costwarden": {},
        "only_custodian": {"protected": 1, "unknown": 1},
    }
    rows = diff.by_category(categories, flagged, custodian, held)
    assert [(r["category"], r["instances"], r["costwarden"], r["custodian"]) for r in rows] == [
        ("asg", 2, 2, 2),
        ("expired", 1, 1, 1),
        ("future", 1, 0, 0),
        ("protected", 1, 0, 1),
    ]
    says = {r["category"]: r["costwarden_says"] for r in rows}
    assert says == {
        "asg": "through its group: delete train (expired since …)",
        "expired": "expired since …",
        "future": "not reported",
        "protected": "skipped: protected by costwarden:protect=true",
    }


def test_idle_flags_read_kind_and_evidence() -> None:
    envelope = {"results": [{"id": "i-1", "kind": "idle", "evidence": "CPU 9 % max-hourly over 14 days"}]}
    assert diff.idle_flags(envelope) == {"i-1": "idle: CPU 9 % max-hourly over 14 days"}


# --- the fleets -------------------------------------------------------------------------------------------------


def test_reaper_mix_adds_up_and_keeps_its_edge_cases() -> None:
    mix = fleet.reaper_mix(1_000)
    assert sum(mix.values()) == 1_000
    assert mix == {
        "expired": 141,  # 15 % of the 940 beyond the fixed 60
        "future": 329,
        "missing_experiment": 235,
        "missing_other": 235,
        "asg_member_expired_group": 20,
        "expired_protect_tag": 10,
        "expired_termination_protection": 10,
        "expires_today_date_only": 10,
        "malformed_expiry": 10,
    }


def test_idle_profiles_are_what_their_names_say() -> None:
    def hours(category: str) -> list[float | None]:
        return [fleet.cpu_profile(category, 3, h) for h in range(fleet.HOURS)]

    assert max(v for v in hours("idle") if v is not None) < 15
    assert min(v for v in hours("busy") if v is not None) >= 30
    assert sum(v is not None and v >= 15 for v in hours("nightly")) == 14  # one busy hour a day
    assert sum(v is not None for v in hours("sparse")) == fleet.HOURS // 4  # below the finder's 50 % coverage
    with pytest.raises(ValueError, match="unknown idle category 'gpu'"):
        fleet.cpu_profile("gpu", 0, 0)


# --- the simulator's index answers as moto does -----------------------------------------------------------------


def _backend() -> tuple[Any, datetime, datetime]:
    from moto.cloudwatch.models import CloudWatchBackend

    backend = CloudWatchBackend("us-east-1", "123456789012")
    end = datetime(2026, 12, 7, 12, tzinfo=UTC)
    start = end - timedelta(hours=6)
    data = []
    for n in range(3):
        dims = [{"Name": "InstanceId", "Value": f"i-{n}"}]
        for minute in range(0, 6 * 60 + 30, 25):  # several points an hour, some outside the window
            value = float((n * 7 + minute) % 40)
            data.append(
                {
                    "MetricName": "CPUUtilization",
                    "Dimensions": dims,
                    "Timestamp": start + timedelta(minutes=minute - 20),
                    "Value": value,
                }
            )
    backend.put_metric_data("AWS/EC2", data)
    return backend, start, end


def _query(n: int, stat: str, period: int = 3600) -> dict[str, Any]:
    metric = {
        "Namespace": "AWS/EC2",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "InstanceId", "Value": f"i-{n}"}],
    }
    return {"Id": f"q{n}", "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}}


@pytest.mark.parametrize("scan_by", ["TimestampAscending", "TimestampDescending"])
def test_indexed_get_metric_data_equals_moto(scan_by: str) -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    stock = CloudWatchBackend.get_metric_data  # no test installs the index on moto's class: this is moto's own
    backend, start, end = _backend()
    queries = [_query(0, "Average"), _query(1, "Maximum", 1800), _query(2, "SampleCount"), _query(7, "Average")]
    fast = server.fast_get_metric_data(stock)
    assert fast(backend, queries, start, end, scan_by) == stock(backend, queries, start, end, scan_by)
    assert fast(backend, queries, start, end, scan_by)[3]["values"] == []  # a series nobody wrote


def test_indexed_get_metric_statistics_equals_moto() -> None:
    from moto.cloudwatch.models import CloudWatchBackend

    stock = CloudWatchBackend.get_metric_statistics
    backend, start, end = _backend()
    fast = server.fast_get_metric_statistics(stock)
    dims = [{"Name": "InstanceId", "Value": "i-1"}]
    args = ("AWS/EC2", "CPUUtilization", start, end, 3600, ["Average", "Maximum"])
    got = fast(backend, *args, dimensions=dims)
    want = stock(backend, *args, dimensions=dims)
    assert [(s.timestamp, s.average, s.maximum) for s in got] == [(s.timestamp, s.average, s.maximum) for s in want]
    assert len(got) == 6


def test_the_index_sees_points_put_after_it_was_built() -> None:
    backend, start, end = _backend()
    assert len(server.index_of(backend).window(("CPUUtilization", (("InstanceId", "i-0"),)), start, end)) == 15
    later = start + timedelta(minutes=1)
    backend.put_metric_data(
        "AWS/EC2",
        [
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": "i-0"}],
                "Timestamp": later,
                "Value": 1.0,
            }
        ],
    )
    assert len(server.index_of(backend).window(("CPUUtilization", (("InstanceId", "i-0"),)), start, end)) == 16


def test_one_resource_tag_lookup_equals_moto() -> None:
    from moto.ec2.models.tags import TagBackend

    tags = TagBackend()
    tags.create_tags(["i-0123456789abcdef0", "i-0123456789abcdef1"], {"team": "vision", "expires_at": "2026-12-01"})
    tags.create_tags(["vol-0123456789abcdef0"], {"team": "nlp"})
    fast = server.fast_describe_tags(TagBackend.describe_tags)
    for filters in (
        {"resource-id": ["i-0123456789abcdef1"]},
        {"resource-id": ["vol-0123456789abcdef0"]},
        {"resource-id": ["i-0123456789abcdef*"]},  # a pattern: moto's own scan answers
        {"resource-id": ["i-0123456789abcdef0"], "key": ["team"]},
        {"resource-id": ["i-missing"]},
    ):
        assert fast(tags, filters) == TagBackend.describe_tags(tags, filters), filters
    assert "i-missing" not in tags.tags  # the lookup adds nothing to moto's store
    assert len(fast(tags, {"resource-id": ["i-0123456789abcdef*"]})) == 4


def test_the_read_timeout_reaches_every_client(fresh_hook: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEER_READ_TIMEOUT", "900")
    hook = fresh_hook()
    ec2 = _ec2(hook)
    assert ec2.meta.config.read_timeout == 900


def test_the_reaper_fleet_is_what_its_manifest_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """Built on moto in process (the same calls the benchmark makes on its server), at the smallest size."""
    from moto import mock_aws

    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    now = datetime(2026, 12, 7, 21, tzinfo=UTC)
    with mock_aws():
        session = boto3.session.Session(region_name=fleet.REGION)
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            return clients.setdefault(service, session.client(service))  # type: ignore[call-overload]

        manifest = fleet.build_reaper_fleet(client, 100, now)
        assert manifest.count() == dict(sorted(fleet.reaper_mix(100).items()))
        assert sorted(manifest.groups[fleet.ASG_NAME]) == sorted(manifest.ids("asg_member_expired_group"))
        ec2 = client("ec2")
        protected = manifest.ids("expired_termination_protection")[0]
        attribute = ec2.describe_instance_attribute(InstanceId=protected, Attribute="disableApiTermination")
        assert attribute["DisableApiTermination"]["Value"] is True
        member = manifest.groups[fleet.ASG_NAME][0]
        described = ec2.describe_instances(InstanceIds=[member])["Reservations"][0]["Instances"][0]
        assert {t["Key"]: t["Value"] for t in described["Tags"]}["expires_at"] == "2026-11-30"


def test_a_tool_output_that_is_not_json_is_named_not_a_traceback() -> None:
    from bench.peer import harness

    with pytest.raises(venv.PeerSetupError, match=r"^costwarden's output in idle is not JSON: 'Traceback \(most"):
        harness._json("Traceback (most recent call last):\n  ...", "costwarden's output in idle")
    assert harness._json('{"results": []}', "x") == {"results": []}


def test_the_simulator_verdict_names_whose_wall_it_is() -> None:
    from bench.peer import harness

    both = harness.simulator_verdict({"Costwarden": 0.53, "Custodian": 0.56})
    assert both == "the simulator dominates both walls: read the CPU ratio, not the wall ratio"
    one = harness.simulator_verdict({"Costwarden": 0.41, "Custodian": 0.82})
    assert one == "the simulator is most of Custodian's wall: its requests cost the server that much"
    assert (
        harness.simulator_verdict({"Costwarden": 0.2, "Custodian": 0.3}) == "the tools' own work is most of each wall"
    )
