"""Severity fits the cost (issue 21, item 7): an idle finding is no page by itself, its price says it is a rate over
the window it was judged on, and no suggested command acts on a production or protected resource."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from costwarden.idle.alerts import account_alert, team_alert
from costwarden.idle.checks.base import IdleCheck
from costwarden.idle.checks.ebs_volume import EbsVolumes
from costwarden.idle.checks.emr_cluster import EmrClusters
from costwarden.idle.checks.stopped_instance import StoppedInstances
from costwarden.idle.model import Finding, Kind
from costwarden.idle.recommend import recommend
from costwarden.models.alert import AlertEvent, Severity
from costwarden.notifier.routing import parse_webhooks, routes_for
from costwarden.resources.model import Resource
from costwarden.settings import IdleSettings, SettingsError, parse_settings

NOW = datetime(2026, 12, 10, 6, tzinfo=UTC)
WEEK = 7 * 24
HOOKS = parse_webhooks(
    {
        "default": "https://hooks.slack.com/services/T0/B0/default-token",
        "oncall": "https://hooks.slack.com/services/T0/B1/oncall-token",
    }
)


def finding(usd: float, hours: float | None, id_: str = "j-1", kind: Kind = Kind.IDLE) -> Finding:
    return Finding(
        arn=f"arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/{id_}",
        id=id_,
        type="emr:cluster",
        region="us-east-1",
        team="data",
        kind=kind,
        monthly_usd=usd,
        evidence="IsIdle = 1 throughout the last 2 h (24 points)",
        recommendation="terminate it",
        judged_hours=hours,
    )


def channels(event: AlertEvent) -> list[str]:
    return [r.channel for r in routes_for(event, HOOKS)]


# --------------------------------------------------------------------------------------------- severity


def test_a_cluster_idle_for_two_hours_goes_to_the_team_not_on_call() -> None:
    event = team_alert("data", [finding(1612.0, 2)], IdleSettings(), NOW)
    assert event.severity is Severity.WARNING
    assert channels(event) == ["default"]
    assert "over the last 7 days" not in event.summary
    assert event.title == "Idle: 1 resource, $1,612/month of waste at this rate"
    assert event.summary.startswith("At this rate data pays $1,612 per month for idle capacity (idle for the last 2 h;")
    assert "no page until it has been idle for a day" in event.summary


def test_sustained_waste_above_the_threshold_pages_on_call() -> None:
    event = team_alert("data", [finding(1612.0, WEEK)], IdleSettings(), NOW)
    assert event.severity is Severity.CRITICAL
    assert channels(event) == ["default", "oncall"]
    assert "(idle throughout the last 7 days)" in event.summary


def test_short_spells_do_not_add_up_to_a_page() -> None:
    # 900 sustained + 1,612 for two hours: 2,512 at this rate, but only 900 proven: a warning.
    findings = [finding(900.0, WEEK, "j-week"), finding(1612.0, 2, "j-short")]
    event = team_alert("data", findings, IdleSettings(), NOW)
    assert event.severity is Severity.WARNING and event.details["waste_usd"] == 2512.0
    assert event.details["sustained_waste_usd"] == 900.0


def test_the_on_call_threshold_is_a_setting() -> None:
    cfg = parse_settings({"idle": {"oncall_above_usd_month": 5000}}).idle
    assert team_alert("data", [finding(4999.0, WEEK)], cfg, NOW).severity is Severity.WARNING
    assert team_alert("data", [finding(5000.0, WEEK)], cfg, NOW).severity is Severity.CRITICAL


def test_the_old_critical_key_is_refused_naming_the_new_one() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"idle": {"critical_usd": 1000}})
    assert "idle.critical_usd" in str(caught.value) and "idle.oncall_above_usd_month" in str(caught.value)


def test_the_on_call_threshold_is_not_below_the_warning() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"idle": {"warning_usd": 500, "oncall_above_usd_month": 100}})
    assert "oncall_above_usd_month must be >= warning_usd" in str(caught.value)


def test_the_account_summary_never_pages() -> None:
    event = account_alert("platform", [finding(50_000.0, WEEK)], IdleSettings(), NOW)
    assert event.severity is Severity.WARNING and channels(event) == ["default"]
    assert "at this rate" in event.title


# --------------------------------------------------------------------------------------------- commands


def resource(rtype: str, rid: str, **tags: str) -> Resource:
    return Resource(
        arn=f"arn:aws:x:us-east-1:123456789012:{rid}",
        type=rtype,
        id=rid,
        region="us-east-1",
        tags=tags,
    )


@pytest.mark.parametrize(
    ("check", "rtype", "kind", "extra"),
    [
        (EmrClusters(), "emr:cluster", Kind.IDLE, {"auto_termination": None}),
        (EbsVolumes(), "ec2:volume", Kind.UNATTACHED, {}),
        (StoppedInstances(), "ec2:instance", Kind.STOPPED, {}),
    ],
)
@pytest.mark.parametrize(
    "tags",
    [
        {"environment": "production"},
        {"environment": " Production "},
        {"environment": "development", "costwarden:protect": "true"},
    ],
)
def test_no_command_acts_on_production_or_protected(
    check: IdleCheck, rtype: str, kind: Kind, extra: dict[str, object], tags: dict[str, str]
) -> None:
    settings = parse_settings({})
    res = resource(rtype, "r-1", **tags)
    text, commands = recommend(check.suggest(res, kind, **extra), res, settings)
    assert commands == (
        "aws resourcegroupstaggingapi tag-resources --region us-east-1 --resource-arn-list "
        "arn:aws:x:us-east-1:123456789012:r-1 --tags costwarden:expected-idle=true",
    )
    assert "no stop, delete or change is suggested" in text
    assert "terminate" not in text and "delete it" not in text


def test_development_resources_keep_their_commands() -> None:
    settings = parse_settings({})
    res = resource("emr:cluster", "j-dev", environment="development")
    _, commands = recommend(EmrClusters().suggest(res, Kind.IDLE, auto_termination=True), res, settings)
    assert commands[0] == "aws emr terminate-clusters --region us-east-1 --cluster-ids j-dev"
    assert commands[-1].endswith("--tags costwarden:expected-idle=true")
