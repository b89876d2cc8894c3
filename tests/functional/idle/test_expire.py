"""``idle.action: expire`` on moto: mark → the reaper's warning → the reaper's action → audit; a resource that
became busy is unmarked (only what the idle finder set); production and protected resources are never marked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from costwarden.models.alert import AlertKind
from costwarden.resources.model import Status
from costwarden.settings import parse_settings

from tests.functional.idle.idle_env import IdleAccount, constant

EXPIRE = {"idle": {"action": "expire"}}
HISTORY_HOURS = 11 * 24  # covers the lookback of every run below


def audit(acc: IdleAccount) -> list[dict[str, Any]]:
    return [item for (pk, _), item in acc.state.items.items() if pk.startswith("audit#")]


def test_mark_warn_reap_audit_and_unmark(idle_account: IdleAccount) -> None:
    acc = idle_account
    now: datetime = acc.now
    later = now + timedelta(days=1)
    end = now + timedelta(days=4, hours=2)
    cfg = parse_settings(EXPIRE)
    idle = acc.box("m5.xlarge", team="vision", environment="development")
    wakes = acc.box("m5.xlarge", team="nlp", environment="experiment")
    extended = acc.box("m5.xlarge", team="nlp", environment="experiment")
    prod = acc.box("m5.xlarge", team="search", environment="production")
    protected = acc.box("m5.xlarge", team="search", environment="development", **{"costwarden:protect": "true"})
    staging = acc.box("m5.xlarge", team="search", environment="staging")
    own_expiry = acc.box("m5.xlarge", team="search", environment="development", expires_at="2099-01-01")
    for box in (idle, prod, protected, staging, own_expiry):
        acc.cpu(box, constant(1.0), hours=HISTORY_HOURS, end=end)
    for box in (wakes, extended):
        acc.cpu(box, lambda m: 80.0 if m >= now else 1.0, hours=HISTORY_HOURS, end=end)

    # 1. the idle run marks what may be expired, reports the rest
    first = acc.idle(cfg, apply=True)
    decisions = {d.id: d for d in first.decisions}
    expiry = f"{now + timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}"
    for box in (idle, wakes, extended):
        assert decisions[box].status is Status.DONE, decisions[box]
        tags = acc.instance_tags(box)
        assert tags["expires_at"] == expiry
        assert tags["costwarden:idle"].startswith(f"{expiry} idle over 7 days")
    for box, why in (
        (prod, "environment=production: never marked"),
        (protected, "protected by costwarden:protect=true"),
        (staging, "only development or experiment"),
        (own_expiry, "already carries expires_at=2099-01-01"),
    ):
        assert decisions[box].status is Status.SKIPPED and why in decisions[box].reason, decisions[box]
        assert "costwarden:idle" not in acc.instance_tags(box)
    assert acc.instance_tags(own_expiry)["expires_at"] == "2099-01-01"
    assert {f.id for f in first.findings} >= {prod, protected}  # still reported
    marks = [a for a in audit(acc) if a["action"] == "idle-mark"]
    assert {a["id"] for a in marks if a["status"] == "done"} == {idle, wakes, extended}
    assert all(a["run_id"] == first.run_id and a["dry_run"] is False for a in marks)
    team_alert = next(e for e in acc.published if e.kind is AlertKind.IDLE and e.team == "vision")
    assert "expire in 3 days" in team_alert.summary

    # 2. the reaper, an hour later, warns the owner (the 72 h threshold)
    acc.run(cfg, apply=True, now=now + timedelta(hours=1))
    warned = {e.details["arn"].rsplit("/", 1)[-1] for e in acc.published if e.kind is AlertKind.EXPIRY_WARNING}
    assert {idle, wakes, extended} <= warned
    assert acc.instance_state(idle) == "running"

    # 3. a day later: one box woke up, the owner of another extended its expiry
    acc.client("ec2").create_tags(Resources=[extended], Tags=[{"Key": "expires_at", "Value": "2099-06-30"}])
    second = acc.idle(cfg, apply=True, now=later)
    unmarked = {d.id: d for d in second.decisions if d.action == "idle-unmark"}
    assert set(unmarked) == {wakes, extended}
    assert all(d.status is Status.DONE for d in unmarked.values())
    assert "expires_at" not in acc.instance_tags(wakes) and "costwarden:idle" not in acc.instance_tags(wakes)
    assert acc.instance_tags(extended)["expires_at"] == "2099-06-30"  # the owner's extension is kept
    assert "costwarden:idle" not in acc.instance_tags(extended)
    assert acc.instance_tags(idle)["expires_at"] == expiry  # still idle: kept

    # 4. past the grace period the reaper acts, with its audit
    result = acc.run(cfg, apply=True, now=now + timedelta(days=3, hours=1))
    done = {d.id: d for d in result.decisions}
    assert done[idle].action == "terminate" and done[idle].status is Status.DONE
    assert acc.instance_state(idle) in ("shutting-down", "terminated")
    for box in (wakes, extended, prod, protected, staging):
        assert acc.instance_state(box) == "running"
    reaped = [a for a in audit(acc) if a["run_id"] == result.run_id and a["id"] == idle]
    assert reaped and reaped[0]["action"] == "terminate" and reaped[0]["status"] == "done"


def test_report_action_and_plan_only_never_tag(idle_account: IdleAccount) -> None:
    box = idle_account.box("m5.xlarge", team="vision", environment="development")
    idle_account.cpu(box, constant(1.0))
    report = idle_account.idle(parse_settings({}), apply=True)
    assert report.decisions == [] and "expires_at" not in idle_account.instance_tags(box)
    plan = idle_account.idle(parse_settings(EXPIRE), apply=False)
    assert [(d.id, d.status) for d in plan.decisions] == [(box, Status.PLANNED)]
    assert "expires_at" not in idle_account.instance_tags(box)


def test_marks_are_capped_like_reaper_actions(idle_account: IdleAccount) -> None:
    boxes = [idle_account.box("m5.large", team="vision", environment="experiment") for _ in range(3)]
    for box in boxes:
        idle_account.cpu(box, constant(1.0))
    run = idle_account.idle(parse_settings({**EXPIRE, "reaper": {"max_actions_per_run": 2}}), apply=True)
    assert run.marks.blocked and all(d.status is Status.SKIPPED for d in run.decisions)
    assert all("blast-radius cap" in d.reason for d in run.decisions)
    assert all("expires_at" not in idle_account.instance_tags(b) for b in boxes)


def test_configured_keys_for_expiry_environment_and_marker(idle_account: IdleAccount) -> None:
    cfg = parse_settings(
        {
            **EXPIRE,
            "tags": {"expires_key": "ttl", "environment_key": "stage", "team_key": "owner"},
            "idle": {"action": "expire", "marker_key": "cw-idle", "grace_days": 5},
        }
    )
    box = idle_account.box("m5.large", owner="vision", stage="development")
    prod = idle_account.box("m5.large", owner="vision", stage="production")
    for b in (box, prod):
        idle_account.cpu(b, constant(1.0))
    run = idle_account.idle(cfg, apply=True)
    tags = idle_account.instance_tags(box)
    assert tags["ttl"] == f"{idle_account.now + timedelta(days=5):%Y-%m-%dT%H:%M:%SZ}"
    assert tags["cw-idle"].startswith(tags["ttl"]) and "expires_at" not in tags
    assert "ttl" not in idle_account.instance_tags(prod)
    assert {d.id: d.team for d in run.decisions} == {box: "vision", prod: "vision"}
