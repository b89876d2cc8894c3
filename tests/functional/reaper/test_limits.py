"""Development limits on moto (issue 15): a team at its GPU limit is warned, naming its newest resources; over it
with ``limits.action: stop`` exactly the newest excess instances are stopped through the reaper's guard path, a
protected one is skipped (the next newest taken instead), production is never counted nor touched, and the audit
says why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from costwarden.models.alert import AlertKind
from costwarden.reaper.limit_run import run_limits
from costwarden.resources import iam
from costwarden.settings import parse_settings
from moto.backends import get_backend

from tests.functional.reaper.reaper_env import ACCOUNT, NOW, Account


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """The CLI reads settings once per process (``load_settings`` is cached): never leave ours to later tests."""
    from costwarden.settings import load_settings

    load_settings.cache_clear()
    yield
    load_settings.cache_clear()


def _settings(action: str = "stop", **reaper: Any) -> Any:
    return parse_settings(
        {
            "reaper": {"dry_run": False, **reaper},
            "teams": {"vision": {"limits": {"development_gpus": 8, "action": action}}},
        }
    )


def _launch(account: Account, instance_type: str, hour: int, minute: int = 0, **tags: str) -> str:
    """An instance of ``instance_type`` launched at ``hour:minute`` on NOW's day (moto stamps creation time only)."""
    tags = {"team": "vision", "environment": "development", **tags}
    ec2 = account.client("ec2")
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    out = ec2.run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType=instance_type, TagSpecifications=spec
    )
    instance_id = str(out["Instances"][0]["InstanceId"])
    backend = get_backend("ec2")[ACCOUNT]["us-east-1"]
    backend.get_instance(instance_id).launch_time = datetime(2026, 12, 10, hour, minute, tzinfo=UTC)
    return instance_id


def _run(account: Account, settings: Any) -> Any:
    return run_limits(
        settings,
        regions=["us-east-1"],
        clients=account.clients,
        state=account.state,
        publish_fn=account.record,
        now=NOW,
    )


def test_at_the_gpu_limit_warns_then_over_it_stops_exactly_the_newest_skipping_the_protected(
    account: Account,
) -> None:
    settings = _settings()
    a = _launch(account, "g5.12xlarge", 8)  # 4 GPUs
    b = _launch(account, "g5.xlarge", 9)
    c = _launch(account, "g5.xlarge", 10)
    d = _launch(account, "g5.2xlarge", 10, 30)
    e = _launch(account, "g5.xlarge", 11)  # 8 GPUs in all: at the limit
    cpu = _launch(account, "t3.micro", 11, 50)  # newest, but no GPU: never stopped for a GPU excess
    prod = _launch(account, "p4d.24xlarge", 11, 55, environment="production")  # not counted, never touched
    other = _launch(account, "g5.48xlarge", 11, 56, team="nlp")  # another team, no limits

    at = _run(account, settings)
    [vision] = at.counts
    assert (vision.gpus, vision.level) == (8, "at")
    assert at.run.decisions == []
    [warning] = account.published
    assert warning.kind is AlertKind.LIMIT and warning.title == "vision: at its development limit"
    assert warning.details["items"][0].startswith(f"newest: ec2:instance {cpu} ")
    assert warning.details["items"][1].startswith(f"newest: ec2:instance {e} (g5.xlarge, 1 GPU")
    assert _run(account, settings).events == []  # same count, same day: warned once

    f = _launch(account, "g5.xlarge", 11, 30, **{"costwarden:protect": "true"})
    g = _launch(account, "g5.xlarge", 11, 45)  # 10 GPUs: 2 over
    over = _run(account, settings)
    decisions = {d.id: d for d in over.run.decisions}
    assert {i for i, d in decisions.items() if d.action == "stop"} == {g, e}
    assert all(decisions[i].status.value == "done" for i in (g, e))
    assert decisions[f].status.value == "skipped" and decisions[f].action == "none"
    assert "protected by costwarden:protect=true" in decisions[f].reason
    assert "the next newest taken instead" in decisions[f].reason
    assert "over the development limit of team vision: 10 development GPUs (limit 8)" in decisions[g].reason
    states = {i: account.instance_state(i) for i in (a, b, c, d, e, f, g, cpu, prod, other)}
    assert {i for i, s in states.items() if s != "running"} == {g, e}
    assert states[g] == "stopped"

    audit = account.state.query(f"audit#{NOW:%Y-%m-%d}")
    audited = {item["id"]: item for item in audit if item.get("run_id") == over.run.run_id}
    assert set(audited) == {g, f, e}
    assert audited[f]["status"] == "skipped" and "protected" in audited[f]["reason"]
    assert audited[g]["action"] == "stop" and audited[g]["dry_run"] is False
    told = account.published[-1]
    assert told.title == "vision: over its development limit, 2 newest resource(s) stopped"
    assert any(item.startswith(f"skipped ec2:instance {f}") for item in told.details["items"])


def test_report_and_dry_run_stop_nothing_and_the_cap_blocks(account: Account) -> None:
    for hour in range(8, 11):
        _launch(account, "g5.12xlarge", hour)  # 12 GPUs of 8
    report = _run(account, _settings("report"))
    assert report.run.decisions == [] and report.counts[0].level == "over"
    assert "limits.action is report" in account.published[-1].summary
    dry = _run(account, _settings(dry_run=True))
    assert [d.status.value for d in dry.run.decisions] == ["planned"]
    capped = _run(account, _settings(max_actions_per_run=1).model_copy())
    assert capped.run.decisions[0].status.value == "done"  # one stop fits the cap of one
    capped_twice = run_limits(
        parse_settings(
            {
                "reaper": {"dry_run": False, "max_actions_per_run": 1},
                "teams": {"vision": {"limits": {"development_gpus": 0, "action": "stop"}}},
            }
        ),
        regions=["us-east-1"],
        clients=account.clients,
        state=account.state,
        now=NOW,
    )
    assert capped_twice.run.blocked
    assert all("blocked by the blast-radius cap" in d.reason for d in capped_twice.run.decisions)
    assert sum(account.instance_state(i) == "running" for i in _running(account)) == 2


def _running(account: Account) -> list[str]:
    pages = account.client("ec2").describe_instances()["Reservations"]
    return [i["InstanceId"] for r in pages for i in r["Instances"] if i["State"]["Name"] == "running"]


def test_stop_permissions_only_when_a_team_stops_and_only_for_experiment_environments() -> None:
    def actions(settings: Any) -> dict[str, Any]:
        statements = iam.policy_statements(settings, partition="aws", account=ACCOUNT, regions=["us-east-1"])
        return {a: s for s in statements if s["Effect"] == "Allow" for a in s["Action"]}

    assert "ec2:StopInstances" not in actions(_settings("report"))
    granted = actions(_settings("stop"))
    stop = granted["ec2:StopInstances"]
    assert stop["Condition"]["StringEquals"] == {"aws:ResourceTag/environment": ["development", "experiment"]}
    assert stop["Condition"]["StringNotEqualsIgnoreCase"] == {"aws:ResourceTag/costwarden:protect": "true"}
    assert "sagemaker:StopNotebookInstance" in granted and "sagemaker:StopTrainingJob" in granted
    denied = [
        s
        for s in iam.policy_statements(_settings("stop"), partition="aws", account=ACCOUNT, regions=["us-east-1"])
        if s["Effect"] == "Deny"
    ]
    assert any("ec2:StopInstances" in s["Action"] for s in denied)


def test_limits_cli_reports_counts_against_limits_and_acts_on_nothing(
    account: Account, monkeypatch: Any, capsys: Any
) -> None:
    from costwarden.cli.main import main
    from costwarden.settings import load_settings

    newest = _launch(account, "g5.12xlarge", 9)
    _launch(account, "g5.12xlarge", 8)
    monkeypatch.delenv("COSTWARDEN_TEAMS_FILE", raising=False)  # the directory comes from the variable here
    monkeypatch.setenv(
        "COSTWARDEN_SETTINGS",
        json.dumps(
            {
                "reaper": {"regions": ["us-east-1"]},
                "teams": {"vision": {"limits": {"development_gpus": 4, "development_instances": 5, "action": "stop"}}},
            }
        ),
    )
    load_settings.cache_clear()
    assert main(["limits", "--format", "json"]) == 0
    [vision] = json.loads(capsys.readouterr().out)["results"]
    assert (vision["instances"], vision["instance_limit"], vision["gpus"], vision["gpu_limit"]) == (2, 5, 8, 4)
    assert vision["level"] == "over" and vision["newest"][0].startswith(f"ec2:instance {newest} (g5.12xlarge, 4 GPU")
    assert account.instance_state(newest) == "running"
