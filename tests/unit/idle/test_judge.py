"""The busy/idle judgement on plain metric histories: periodic load, GPU-vs-CPU disagreement, missing data, age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from costwarden.idle.checks.ec2_instance import judge_instance
from costwarden.idle.checks.emr_cluster import judge_emr
from costwarden.idle.checks.sagemaker_endpoint import judge_endpoint
from costwarden.idle.checks.stopped_instance import stopped_since
from costwarden.idle.judge import combine_members, instance_family, is_gpu_type
from costwarden.idle.model import Kind, Window
from costwarden.settings import IdleSettings

NOW = datetime(2026, 12, 10, 6, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=7), NOW)
OLD = NOW - timedelta(days=60)
CFG = IdleSettings()


def flat(value: float, hours: int = 168, every: int = 1) -> list[tuple[datetime, float]]:
    return [(WINDOW.start + timedelta(hours=h, minutes=5), value) for h in range(0, hours, every)]


def nightly(base: float, peak: float, run_hours: int = 2) -> list[tuple[datetime, float]]:
    """A box that idles at ``base`` and runs a job at ``peak`` from 01:00 for ``run_hours`` every night."""
    out = []
    for h in range(168):
        moment = WINDOW.start + timedelta(hours=h, minutes=5)
        out.append((moment, peak if 1 <= moment.hour < 1 + run_hours else base))
    return out


def test_flat_low_cpu_is_idle_with_evidence() -> None:
    verdict = judge_instance("m5.xlarge", OLD, flat(3.0), None, WINDOW, CFG)
    assert verdict.kind is Kind.IDLE
    assert "CPU 3 % max-hourly over 7 days" in verdict.evidence


def test_nightly_two_hour_job_at_90_percent_is_not_idle() -> None:
    series = nightly(2.0, 90.0)
    average = sum(v for _, v in series) / len(series)
    assert average < CFG.threshold_percent  # the average alone would call it idle
    verdict = judge_instance("m5.xlarge", OLD, series, None, WINDOW, CFG)
    assert verdict.busy, verdict


def test_nightly_gpu_training_box_is_not_idle() -> None:
    verdict = judge_instance("p4d.24xlarge", OLD, flat(5.0), [flat(0.0), nightly(0.0, 95.0)], WINDOW, CFG)
    assert verdict.busy


def test_a_single_busy_hour_below_min_busy_hours_is_still_idle() -> None:
    series = flat(1.0)
    series[10] = (series[10][0], 99.0)
    assert judge_instance("m5.large", OLD, series, None, WINDOW, CFG).kind is Kind.IDLE
    strict = IdleSettings(min_busy_hours=1)
    assert judge_instance("m5.large", OLD, series, None, WINDOW, strict).busy


def test_busy_gpu_with_idle_cpu_is_busy() -> None:
    verdict = judge_instance("p3.8xlarge", OLD, flat(4.0), [flat(85.0)], WINDOW, CFG)
    assert verdict.busy
    assert "GPU 85 %" in verdict.evidence


def test_idle_gpu_with_busy_cpu_is_gpu_idle() -> None:
    verdict = judge_instance("g5.12xlarge", OLD, flat(61.0), [flat(2.0), flat(1.0)], WINDOW, CFG)
    assert verdict.kind is Kind.GPU_IDLE
    assert verdict.evidence.startswith("GPU 2 % max-hourly over 7 days, CPU 61 %")


def test_idle_gpu_and_idle_cpu_is_idle() -> None:
    verdict = judge_instance("p4d.24xlarge", OLD, flat(3.0), [flat(0.0)] * 8, WINDOW, CFG)
    assert verdict.kind is Kind.IDLE


def test_one_busy_gpu_of_eight_makes_the_box_busy() -> None:
    verdict = judge_instance("p4d.24xlarge", OLD, flat(3.0), [flat(0.0)] * 7 + [flat(70.0)], WINDOW, CFG)
    assert verdict.busy


def test_gpu_instance_without_gpu_metrics_is_its_own_finding_not_a_guess() -> None:
    for cpu in (flat(2.0), flat(80.0)):
        verdict = judge_instance("g4dn.xlarge", OLD, cpu, [], WINDOW, CFG)
        assert verdict.kind is Kind.NO_METRICS
        assert "enable the CloudWatch agent's nvidia_smi collection" in verdict.evidence


def test_configured_gpu_families_decide_what_is_a_gpu_box() -> None:
    assert is_gpu_type("inf2.xlarge", CFG) and is_gpu_type("trn1.32xlarge", CFG) and is_gpu_type("dl1.24xlarge", CFG)
    assert not is_gpu_type("m5.large", CFG) and not is_gpu_type("c7gn.large", CFG)
    assert instance_family("ml.g4dn.xlarge") == "g"
    cfg = IdleSettings(gpu_families=("m",))
    assert judge_instance("m5.large", OLD, flat(2.0), [], WINDOW, cfg).kind is Kind.NO_METRICS


def test_missing_data_points_are_never_read_as_idle() -> None:
    sparse = flat(1.0, hours=168, every=4)  # 42 of 168 hours: an agent that mostly did not report
    verdict = judge_instance("m5.large", OLD, sparse, None, WINDOW, CFG)
    assert not verdict.judged and verdict.kind is None
    assert "only 42 of 168 hours have data" in verdict.evidence
    gpu = judge_instance("p3.2xlarge", OLD, flat(50.0), [sparse], WINDOW, CFG)
    assert not gpu.judged


def test_missing_hours_do_not_hide_a_busy_hour() -> None:
    sparse = flat(1.0, hours=168, every=4)
    sparse[3] = (sparse[3][0], 95.0)
    sparse[9] = (sparse[9][0], 95.0)
    assert judge_instance("m5.large", OLD, sparse, None, WINDOW, CFG).busy


def test_no_cpu_data_at_all_is_no_metrics() -> None:
    assert judge_instance("m5.large", OLD, [], None, WINDOW, CFG).kind is Kind.NO_METRICS


def test_resource_younger_than_the_lookback_is_not_judged() -> None:
    launched = NOW - timedelta(days=2)
    verdict = judge_instance("p4d.24xlarge", launched, flat(0.0, hours=48), [flat(0.0, hours=48)], WINDOW, CFG)
    assert not verdict.judged
    assert "younger than the lookback (7 days)" in verdict.evidence
    assert not judge_endpoint(launched, [], WINDOW, CFG).judged


def test_points_outside_the_window_are_ignored() -> None:
    before = [(WINDOW.start - timedelta(hours=h + 1), 99.0) for h in range(24)]
    assert judge_instance("m5.large", OLD, flat(1.0) + before, None, WINDOW, CFG).kind is Kind.IDLE


def test_cluster_members_combine() -> None:
    idle = judge_instance("m5.large", OLD, flat(1.0), None, WINDOW, CFG)
    busy = judge_instance("m5.large", OLD, flat(80.0), None, WINDOW, CFG)
    gpu_idle = judge_instance("g5.xlarge", OLD, flat(80.0), [flat(1.0)], WINDOW, CFG)
    young = judge_instance("m5.large", NOW - timedelta(days=1), flat(1.0), None, WINDOW, CFG)
    assert combine_members([idle, idle]).kind is Kind.IDLE
    assert combine_members([idle, busy]).busy
    assert combine_members([idle, gpu_idle]).kind is Kind.GPU_IDLE
    assert not combine_members([idle, young]).judged
    assert not combine_members([]).judged


@pytest.mark.parametrize(
    ("points", "kind"),
    [([], Kind.IDLE), ([(NOW - timedelta(days=1), 30.0)], Kind.UNDERUSED), ([(NOW - timedelta(days=1), 5000.0)], None)],
)
def test_endpoint_invocations(points: list[tuple[datetime, float]], kind: Kind | None) -> None:
    verdict = judge_endpoint(OLD, [points], WINDOW, CFG)
    assert verdict.judged and verdict.kind is kind


def test_emr_is_idle_throughout_the_last_hours() -> None:
    idle = [(NOW - timedelta(minutes=5 * i), 1.0) for i in range(24)]
    assert judge_emr(OLD, idle, NOW, CFG).kind is Kind.IDLE
    working = [*idle[:-1], (NOW - timedelta(minutes=100), 0.0)]
    assert judge_emr(OLD, working, NOW, CFG).busy
    assert not judge_emr(OLD, [], NOW, CFG).judged
    assert not judge_emr(OLD, idle[:5], NOW, CFG).judged
    assert not judge_emr(NOW - timedelta(minutes=30), idle, NOW, CFG).judged


def test_stopped_since_parses_ec2_state_transition_reason() -> None:
    assert stopped_since("User initiated (2026-11-01 10:00:00 GMT)") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert stopped_since("") is None
    assert stopped_since("Server.SpotInstanceTermination") is None
