"""Severity fits the cost on moto (issue 21, item 7): a production EMR cluster idle for its last two hours is told
to its team at this rate, pages nobody, and is offered only the expected-idle tag."""

from __future__ import annotations

from costwarden.models.alert import Severity

from tests.functional.idle.idle_env import IdleAccount


def test_production_cluster_idle_two_hours(idle_account: IdleAccount) -> None:
    cluster = idle_account.emr_cluster("etl-prod", team="data", environment="production")
    idle_account.is_idle(cluster, 1.0)
    run = idle_account.idle()
    [finding] = [f for f in run.findings if f.id == cluster]
    assert finding.judged_hours == 2
    assert finding.commands == (
        f"aws resourcegroupstaggingapi tag-resources --region us-east-1 --resource-arn-list {finding.arn} "
        "--tags costwarden:expected-idle=true",
    )
    assert finding.recommendation.startswith("environment=production: no stop, delete or change is suggested")
    [event] = [e for e in run.events if e.team == "data"]
    # (0.192 + 2 x 3.06) x 730 = 4,608 USD a month at this rate: above the on-call threshold, but idle for 2 h only.
    assert event.severity is Severity.WARNING
    assert event.title == "Idle: 1 resource, $4,608/month of waste at this rate"
    assert "idle for the last 2 h" in event.summary and "7 days" not in event.summary
    assert "terminate-clusters" not in str(event.details)


def test_development_cluster_keeps_its_commands(idle_account: IdleAccount) -> None:
    cluster = idle_account.emr_cluster("etl-dev", team="data", environment="development")
    idle_account.is_idle(cluster, 1.0)
    [finding] = [f for f in idle_account.idle().findings if f.id == cluster]
    assert finding.commands[0] == f"aws emr terminate-clusters --region us-east-1 --cluster-ids {cluster}"
