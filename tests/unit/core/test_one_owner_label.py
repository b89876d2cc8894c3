"""One owner label (issue 21, item 6): a resource tagged ``Team=nlp, team=""`` has one owner, ``unowned``, for the
reaper, the idle finder, the tag audit and the digest; the configured key wins and the other spelling is a
violation. Each capability's real function is called."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from costwarden.core.keys import TagViolationKey
from costwarden.core.owner import LEGACY_UNOWNED, UNOWNED_TEAM, owner_label
from costwarden.cost.frame import from_ce_pages
from costwarden.digest.compose import compose_digests
from costwarden.idle.checks.base import Ports, RegionScan
from costwarden.idle.checks.stopped_instance import StoppedInstances
from costwarden.idle.model import Kind
from costwarden.models.digest import DigestInput, ReaperActivity, ReaperDecision, TeamRow
from costwarden.reaper.plan import make_plan
from costwarden.resources.model import Resource
from costwarden.settings import NotifierSettings, parse_settings
from costwarden.tags.audit import AuditFacts, audit_resources, build_digests

NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)
SETTINGS = parse_settings({})
TAGS = {
    "Team": "nlp",
    "team": "",
    "project": "bert",
    "model_id": "m-1",
    "environment": "development",
    "lifecycle_phase": "training",
    "cost_center": "cc-1",
    "expires_at": "2026-12-01",
}
ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0000000000000000a"


@dataclass(frozen=True)
class Tagged:
    arn: str
    region: str
    tags: dict[str, str] = field(default_factory=dict)


def resource(tags: dict[str, str]) -> Resource:
    return Resource(
        arn=ARN,
        type="ec2:instance",
        region="us-east-1",
        id="i-0000000000000000a",
        key="i-0000000000000000a",
        tags=tags,
        state="stopped",
        termination_protected=False,
    )


def reaper_owner(tags: dict[str, str]) -> str:
    [decision] = make_plan([resource(tags)], SETTINGS, NOW).decisions
    return decision.team


def idle_owner(tags: dict[str, str]) -> str:
    scan = RegionScan("us-east-1", [resource(tags)], Ports(None, None, None, None), SETTINGS, NOW)  # type: ignore[arg-type]
    scan.add(StoppedInstances(), resource(tags), Kind.STOPPED, "stopped for 9 days", (12.0, ""))
    return scan.findings[0].team


def audit_owner(tags: dict[str, str]) -> str:
    [violation] = audit_resources([Tagged(ARN, "us-east-1", tags)], SETTINGS.tags)
    return violation.team


def digest_owner() -> str:
    """Cost Explorer groups the resource's spend under ``team$`` (its ``team`` tag is blank)."""
    page = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-12-09", "End": "2026-12-10"},
                "Groups": [{"Keys": ["team$"], "Metrics": {"UnblendedCost": {"Amount": "12.5", "Unit": "USD"}}}],
                "Estimated": False,
            }
        ]
    }
    frame = from_ce_pages([page], ["team"], "UnblendedCost")
    return str(frame["team"].iloc[0])


def test_the_same_resource_has_the_same_owner_everywhere() -> None:
    owners = {
        "reap": reaper_owner(TAGS),
        "idle": idle_owner(TAGS),
        "tags audit": audit_owner(TAGS),
        "digest": digest_owner(),
    }
    assert owners == dict.fromkeys(owners, "unowned")
    assert UNOWNED_TEAM == "unowned"


def test_the_configured_key_wins_and_the_other_spelling_is_a_violation() -> None:
    [violation] = audit_resources([Tagged(ARN, "us-east-1", TAGS)], SETTINGS.tags)
    messages = [f.message for f in violation.check.violations]
    assert messages == [
        "tag 'team' is empty: set team=<your team>",
        "remove tag 'Team': it duplicates 'team' in another spelling (only 'team' decides the owner)",
    ]
    # Both present with values: the configured key's value owns, in every capability.
    both = {**TAGS, "team": "vision"}
    assert {reaper_owner(both), idle_owner(both), audit_owner(both)} == {"vision"}


def test_the_audit_summary_is_the_unowned_team_with_a_parseable_key() -> None:
    violations = audit_resources([Tagged(ARN, "us-east-1", TAGS)], SETTINGS.tags)
    [event] = build_digests(violations, AuditFacts(scanned=1), SETTINGS.tags, NOW)
    assert event.team == UNOWNED_TEAM
    assert event.dedup_key == "tag_violation#unowned#2026-W50"
    assert TagViolationKey.parse(event.dedup_key) == TagViolationKey(UNOWNED_TEAM, "2026-W50")


def test_the_digest_gives_unowned_no_digest_of_its_own() -> None:
    month = {"projected_month_end_usd": 40.0, "forecast_low_usd": 30.0, "forecast_high_usd": 50.0}
    row = TeamRow(team=digest_owner(), month_to_date_usd=12.5, yesterday_usd=12.5, baseline_usd=10.0, **month)
    decision = ReaperDecision(resource=ARN, team=reaper_owner(TAGS), action="terminate", status="planned")
    inp = DigestInput(
        date=date(2026, 12, 9), generated_at=NOW, teams=(row,), reaper=ReaperActivity(decisions=(decision,))
    )
    events = compose_digests(inp, NotifierSettings(per_team_digest=True))
    assert [e.team for e in events] == ["all"]


def test_legacy_labels_read_as_the_one_label() -> None:
    assert sorted(LEGACY_UNOWNED) == ["(untagged)", "no team"]
    assert [owner_label(v) for v in ("(untagged)", "no team", "nlp", "")] == ["unowned", "unowned", "nlp", ""]


def test_cost_cached_under_the_legacy_label_reads_as_unowned() -> None:
    from costwarden.adapters.state import MemoryStateStore
    from costwarden.cost.cache import CostCache

    store = MemoryStateStore()
    cache = CostCache(store, ["team"], "UnblendedCost")
    store.put(cache.pk, "2026-11-01#000", {"keys": [["(untagged)"], ["nlp"]], "cost": [3.0, 5.0]})
    frame = cache.load(date(2026, 11, 1), date(2026, 11, 4), lambda start, end: []).frame
    assert sorted(zip(frame["team"], frame["cost_usd"], strict=True)) == [("nlp", 5.0), ("unowned", 3.0)]
