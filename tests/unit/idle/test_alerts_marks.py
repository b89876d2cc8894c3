"""Alerts (severity by waste, items by USD, evidence and commands), the digest section, pricing math, mark rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from costwarden.demo.example_digest import example_input
from costwarden.digest.compose import compose_digest
from costwarden.idle.alerts import account_alert, digest_summary, team_alert
from costwarden.idle.marks import MARK, UNMARK, marker_value, plan_marks
from costwarden.idle.model import Finding, Kind
from costwarden.models.alert import AlertKind, Severity
from costwarden.models.digest import IdleSummary
from costwarden.models.idle_ports import Quote
from costwarden.models.pricing import monthly, on_demand_quote, total
from costwarden.notifier.blocks import render_message
from costwarden.resources.model import ParentRef, Resource, Status
from costwarden.settings import IdleSettings, parse_settings

NOW = datetime(2026, 12, 10, 6, tzinfo=UTC)


def finding(id_: str, kind: Kind, usd: float | None, team: str = "vision", **kw: str) -> Finding:
    return Finding(
        arn=f"arn:aws:ec2:us-east-1:123456789012:instance/{id_}",
        id=id_,
        type="ec2:instance",
        region="us-east-1",
        team=team,
        kind=kind,
        monthly_usd=usd,
        evidence=kw.get("evidence", "GPU 2 % max-hourly over 7 days, CPU 61 %"),
        recommendation="stop or terminate it",
        commands=(f"aws ec2 stop-instances --region us-east-1 --instance-ids {id_}",),
    )


def test_team_alert_sorted_by_usd_with_evidence_and_commands() -> None:
    findings = [
        finding("i-small", Kind.IDLE, 70.0),
        finding("i-none", Kind.NO_METRICS, None),
        finding("i-big", Kind.GPU_IDLE, 23_924.0),
        finding("i-maybe", Kind.UNDERUSED, 500.0),
    ]
    event = team_alert("vision", findings, IdleSettings(), NOW)
    assert event.kind is AlertKind.IDLE and event.severity is Severity.CRITICAL
    assert event.title == "Idle: 4 resources, $23,994/month of waste at this rate"
    assert [f["id"] for f in event.details["findings"]] == ["i-big", "i-maybe", "i-small", "i-none"]
    assert event.details["items"][0].startswith("$23,924/mo · ec2:instance i-big (us-east-1) · gpu_idle: GPU 2 %")
    assert "→ aws ec2 stop-instances --region us-east-1 --instance-ids i-big" in event.details["items"][0]
    assert "price unknown" in event.details["items"][-1]
    assert event.dedup_key == "idle#vision#2026-W50"
    assert "$500 more at stake" in event.summary


@pytest.mark.parametrize(
    ("usd", "severity"), [(99.0, Severity.INFO), (100.0, Severity.WARNING), (1000.0, Severity.CRITICAL)]
)
def test_severity_by_monthly_waste(usd: float, severity: Severity) -> None:
    assert team_alert("t", [finding("i-1", Kind.IDLE, usd)], IdleSettings(), NOW).severity is severity
    # money at stake that is not waste does not raise the severity
    assert team_alert("t", [finding("i-1", Kind.NO_METRICS, usd * 10)], IdleSettings(), NOW).severity is Severity.INFO


def test_alerts_render_in_slack() -> None:
    event = team_alert("vision", [finding("i-big", Kind.IDLE, 2000.0)], IdleSettings(), NOW)
    text = str(render_message(event))
    assert "i-big" in text and "$2,000" in text


def test_account_alert_and_digest_summary() -> None:
    findings = [finding("i-a", Kind.IDLE, 100.0, "a"), finding("i-b", Kind.STOPPED, 50.0, "b")]
    event = account_alert("platform", findings, IdleSettings(), NOW)
    assert event.team == "platform" and event.details["teams"]["a"] == {"resources": 1, "waste_usd": 100.0}
    summary = digest_summary(findings, NOW)
    assert summary["resources"] == 2 and summary["waste_usd"] == 150.0


def test_digest_shows_idle_section() -> None:
    inp = example_input()
    event = compose_digest(inp, top_n=15)
    assert event.details["figures"]["Idle"] == "9 resources, $31,413/month"
    text = str(render_message(event))
    assert "*Idle:* 9 resources, $31,413/month" in text and "llm-pretrain: 2 resources" in text
    without = compose_digest(inp.model_copy(update={"idle": None}), top_n=15)
    assert "Idle" not in without.details["figures"]
    team = compose_digest(inp, top_n=15, team="vision")
    assert team.details["idle"]["resources"] == 3
    assert isinstance(inp.idle, IdleSummary)


def test_pricing_math() -> None:
    assert on_demand_quote([], "Hrs", "x").usd is None
    assert on_demand_quote(["not json"], "Hrs", "x").usd is None
    assert monthly(Quote(1.0, "Hrs")) == 730.0
    assert monthly(Quote(0.08, "GB-Mo"), 100) == pytest.approx(8.0)
    assert monthly(Quote(None, "Hrs", "why")) is None
    assert total([(1.0, ""), (2.0, "")]) == (3.0, "")
    assert total([(1.0, ""), (None, "no price for x")]) == (None, "no price for x")


def resource(id_: str, **tags: str) -> Resource:
    return Resource(
        arn=f"arn:aws:ec2:us-east-1:123456789012:instance/{id_}",
        type="ec2:instance",
        region="us-east-1",
        id=id_,
        key=id_,
        tags=tags,
        state="running",
    )


def test_mark_rules() -> None:
    settings = parse_settings({"idle": {"action": "expire"}})
    res = {
        "dev": resource("dev", environment="development", team="a"),
        "gpu": resource("gpu", environment="development"),
        "prod": resource("prod", environment="production"),
        "none": resource("none"),
        "member": Resource(
            arn="arn:aws:ec2:us-east-1:123456789012:instance/member",
            type="ec2:instance",
            region="us-east-1",
            id="member",
            tags={"environment": "experiment"},
            parent=ParentRef("autoscaling:group", "g"),
        ),
    }
    findings = [
        finding("dev", Kind.IDLE, 1.0, "a"),
        finding("gpu", Kind.GPU_IDLE, 1.0),
        finding("prod", Kind.IDLE, 1.0),
        finding("none", Kind.IDLE, 1.0),
        finding("member", Kind.IDLE, 1.0),
    ]
    plan = plan_marks(findings, list(res.values()), [], settings, NOW)
    assert [(r.id, e) for r, _, e, _ in plan.marks] == [("dev", "2026-12-13T06:00:00Z")]
    decided = {d.id: d for d in plan.decisions}
    assert set(decided) == {"dev", "prod", "none"}  # gpu_idle and members are not candidates
    assert "environment=(none)" in decided["none"].reason


def test_unmark_only_what_it_set() -> None:
    settings = parse_settings({"idle": {"action": "expire"}})
    marker = marker_value("2026-12-13T06:00:00Z", Kind.IDLE, 7)
    assert marker == "2026-12-13T06:00:00Z idle over 7 days by costwarden"
    ours = resource("ours", expires_at="2026-12-13T06:00:00Z", **{"costwarden:idle": marker})
    extended = resource("ext", expires_at="2027-01-31", **{"costwarden:idle": marker})
    still_idle = resource("still", expires_at="2026-12-13T06:00:00Z", **{"costwarden:idle": marker})
    owners = resource("own", expires_at="2026-12-20")
    plan = plan_marks([], [ours, extended, still_idle, owners], ["ours", "ext", "own"], settings, NOW)
    assert plan.unmarks == []  # busy_arns are ARNs
    arns = [r.arn for r in (ours, extended, owners)]
    plan = plan_marks([], [ours, extended, still_idle, owners], arns, settings, NOW)
    keys = {r.id: k for r, _, k in plan.unmarks}
    assert keys == {"ours": ("expires_at", "costwarden:idle"), "ext": ("costwarden:idle",)}
    assert all(d.action == UNMARK and d.status is Status.PLANNED for d in plan.decisions)
    assert MARK == "idle-mark"


def test_marker_value_is_a_valid_tag_value_everywhere() -> None:
    value = marker_value("2026-12-13T06:00:00Z", Kind.UNATTACHED, 30)
    assert all(c.isalnum() or c in " _.:/=+-@" for c in value) and len(value) <= 256
    assert NOW + timedelta(days=3) == datetime(2026, 12, 13, 6, tzinfo=UTC)


def test_an_owner_tagging_expected_idle_cancels_the_mark() -> None:
    settings = parse_settings({"idle": {"action": "expire"}})
    marker = marker_value("2026-12-13T06:00:00Z", Kind.IDLE, 7)
    keep = resource(
        "keep", expires_at="2026-12-13T06:00:00Z", **{"costwarden:idle": marker, "costwarden:expected-idle": "true"}
    )
    plan = plan_marks([], [keep], [], settings, NOW)
    assert [(r.id, k) for r, _, k in plan.unmarks] == [("keep", ("expires_at", "costwarden:idle"))]
    assert plan.decisions[0].reason.startswith("tagged costwarden:expected-idle=true: removing expires_at")
