"""Reading the reaper's audit items (its real shape) into the digest's reaper and expiring parts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from costwarden.adapters.state import MemoryStateStore
from costwarden.digest.sources import audit_partitions, expiring_soon, load_reaper_facts, reaper_activity

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def expired_from(raw: str) -> datetime | None:
    """DESIGN.md's rule in small, for the test: a date lives through that UTC day; naive date-times are UTC."""
    try:
        return datetime.combine(date.fromisoformat(raw) + timedelta(days=1), time(), UTC) if len(raw) == 10 else None
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def audit_item(run_at: datetime, arn: str, *, action: str, status: str, expires_at: str | None, reason: str,
               team: str = "vision", dry_run: bool = False) -> tuple[str, str, dict[str, Any]]:  # fmt: skip
    run_id = f"{run_at:%Y%m%dT%H%M%SZ}-ab12cd34"
    data = {
        "arn": arn,
        "type": "ec2_instance",
        "region": "us-east-1",
        "team": team,
        "expires_at": expires_at,
        "action": action,
        "status": status,
        "reason": reason,
        "id": arn.rsplit("/", 1)[-1],
        "run_id": run_id,
        "dry_run": dry_run,
    }
    return f"audit#{run_at:%Y-%m-%d}", f"{run_id}#{arn}", data


ARN = "arn:aws:ec2:us-east-1:123456789012:instance/"


def _store() -> MemoryStateStore:
    store = MemoryStateStore()
    early = NOW - timedelta(hours=20)  # the previous UTC day
    later = NOW - timedelta(hours=2)
    items = [
        # Terminated at the early run; the later run sees it already terminated (that must not erase the outcome).
        audit_item(early, ARN + "i-done", action="terminate", status="done", expires_at="2026-11-20",
                   reason="expired since 2026-11-21 00:00 UTC"),
        audit_item(later, ARN + "i-done", action="none", status="skipped", expires_at="2026-11-20",
                   reason="already terminated: nothing to do"),
        # Failed at the later run.
        audit_item(later, ARN + "i-failed", action="terminate", status="failed", expires_at="2026-11-24",
                   reason="expired since 2026-11-25 00:00 UTC; AccessDenied"),
        # Expired but protected: a deliberate skip, worth showing.
        audit_item(later, ARN + "i-protected", action="none", status="skipped", expires_at="2026-11-01",
                   reason="protected by costwarden:protect=true"),
        # Live, expiring in 30 hours (date form) and in 100 hours: only the first is "expiring within 72 h".
        audit_item(later, ARN + "i-soon", action="none", status="skipped", expires_at="2026-11-27",
                   reason="live: expires 2026-11-28 00:00 UTC (in 1 d 14 h)", team="speech"),
        audit_item(later, ARN + "i-later", action="none", status="skipped", expires_at="2026-11-30T12:00:00Z",
                   reason="live: expires 2026-11-30 12:00 UTC"),
        # Malformed tag: a tag violation, reported elsewhere; neither reaper news nor expiring.
        audit_item(later, ARN + "i-bad", action="none", status="skipped", expires_at="next week",
                   reason="malformed expires_at: not ISO 8601; never acted on"),
        # Older than 24 hours: out of the window.
        audit_item(NOW - timedelta(hours=30), ARN + "i-old", action="terminate", status="done",
                   expires_at="2026-11-01", reason="expired"),
    ]  # fmt: skip
    for pk, sk, data in items:
        store.put(pk, sk, data)
    error_run = f"{later:%Y%m%dT%H%M%SZ}-ab12cd34"
    store.put(f"audit#{later:%Y-%m-%d}", f"{error_run}#error#eu-west-1#emr", {
        "run_id": error_run, "region": "eu-west-1", "source": "emr", "error": "AccessDeniedException",
    })  # fmt: skip
    return store


def test_partitions_cover_the_last_24_hours() -> None:
    assert audit_partitions(NOW) == ["audit#2026-11-25", "audit#2026-11-26"]
    assert audit_partitions(datetime(2026, 11, 26, 23, 59, tzinfo=UTC)) == ["audit#2026-11-25", "audit#2026-11-26"]


def test_reaper_activity_keeps_outcomes_and_deliberate_skips() -> None:
    activity, _ = load_reaper_facts(_store(), now=NOW, expired_from=expired_from)
    by_resource = {d.resource.removeprefix(ARN): d for d in activity.decisions}
    assert set(by_resource) == {"i-done", "i-failed", "i-protected", "eu-west-1/emr"}
    assert by_resource["i-done"].status == "done"
    assert by_resource["i-failed"].reason.endswith("AccessDenied")
    assert by_resource["i-protected"].status == "skipped"
    assert by_resource["eu-west-1/emr"].status == "failed"
    assert by_resource["eu-west-1/emr"].action == "inventory"
    assert activity.dry_run is False


def test_expiring_soon_from_the_latest_run() -> None:
    _, expiring = load_reaper_facts(_store(), now=NOW, expired_from=expired_from)
    assert [(e.resource.rsplit("/", 1)[-1], e.team) for e in expiring] == [("i-soon", "speech")]
    assert expiring[0].expires_at == datetime(2026, 11, 28, tzinfo=UTC)


def test_a_later_outcome_replaces_an_earlier_one() -> None:
    first = audit_item(NOW - timedelta(hours=3), ARN + "i-1", action="terminate", status="planned",
                       expires_at="2026-11-01", reason="expired", dry_run=True)[2]  # fmt: skip
    second = audit_item(NOW - timedelta(hours=1), ARN + "i-1", action="terminate", status="done",
                        expires_at="2026-11-01", reason="expired")[2]  # fmt: skip
    activity = reaper_activity([second, first], now=NOW, expired_from=expired_from)
    assert [(d.status, d.at) for d in activity.decisions] == [("done", NOW - timedelta(hours=1))]


def test_no_items_means_nothing_happened() -> None:
    activity = reaper_activity([], now=NOW, expired_from=expired_from)
    assert activity.decisions == ()
    assert expiring_soon([], now=NOW, expired_from=expired_from) == []


def test_a_slack_extension_after_the_reaper_run_does_not_hide_what_the_reaper_saw() -> None:
    """The one action path audits a Slack extension (and the hard limit) too: those are not reaper runs."""
    seen = audit_item(NOW - timedelta(hours=2), ARN + "i-soon", action="terminate", status="skipped",
                      expires_at="2026-11-28", reason="not yet expired")[2]  # fmt: skip
    extended = {**audit_item(NOW - timedelta(minutes=5), ARN + "i-other", action="extend", status="done",
                             expires_at="2026-11-30", reason="extend")[2], "trigger": "slack"}  # fmt: skip
    expiring = expiring_soon([seen, extended], now=NOW, expired_from=expired_from)
    assert [e.resource.rsplit("/", 1)[-1] for e in expiring] == ["i-soon"]
