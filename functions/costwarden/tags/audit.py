"""The weekly tag audit, pure: which resources break the policy, whose they are, how much spend has no owner.

Input is plain data (tag mappings from the tagging API, daily cost rows, cost allocation tag status); output is
one ``tag_violation`` :class:`AlertEvent` per team whose resources break the policy, plus one account-level
event for team ``"unowned"`` (``core.owner.UNOWNED_TEAM``) that carries the resources nobody owns, the untagged
share of spend and its trend, and whether the policy's keys are active cost allocation tags. The account-level
event is published every week, even when all is well (severity ``info``): an audit that is silent when clean
cannot be told from one that broke.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from costwarden.core.alerts import build, truncate
from costwarden.core.keys import TagViolationKey
from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.core.owner import team_of as owner_of
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.settings import TagPolicy
from costwarden.tags.validate import Code, TagCheck, intended_key, summarise, validate_tags

#: The team of resources without a usable ``team`` tag (and of the account-level summary): the one owner label.
#: Its dedup key was ``tag_violation#no team#<week>`` until 2026-12: the week of the upgrade may send the account
#: summary once more, under the new key (a record under the old one is never read again and expires with its TTL).
NO_TEAM = UNOWNED_TEAM
#: Resources listed per digest; the rest are counted ("... and 12 more").
MAX_ITEMS = 40
ACTIVATE_HINT = (
    "per-team cost shows nothing until you activate these tags in Billing -> Cost allocation tags "
    "(activation takes up to 24 hours and applies from then on)"
)


class TagMapping(Protocol):
    @property
    def arn(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def tags(self) -> dict[str, str]: ...


class CostRow(Protocol):
    @property
    def day(self) -> date: ...
    @property
    def value(self) -> str: ...
    @property
    def amount(self) -> float: ...


@dataclass(frozen=True)
class ResourceViolation:
    arn: str
    region: str
    team: str
    check: TagCheck

    def line(self) -> str:
        return f"{short_arn(self.arn)} ({self.region}): {summarise(self.check)}"

    def to_dict(self) -> dict[str, object]:
        return {
            "arn": self.arn,
            "region": self.region,
            "problems": [f.to_dict() for f in self.check.violations],
        }


def short_arn(arn: str) -> str:
    """``service:resource`` part of an ARN (``ec2:instance/i-0abc``), for lines a person reads."""
    parts = arn.split(":", 5)
    return f"{parts[2]}:{parts[5]}" if len(parts) == 6 else arn


def team_of(tags: Mapping[str, str], policy: TagPolicy) -> str:
    """Whom a resource's violations are addressed to: its owner (``core.owner.team_of``: the configured key,
    exactly, wins; present but blank is unowned, whatever ``Team`` says); when the configured key is absent
    altogether, the team a misspelt key names (``Team``), who is told to rename it; else ``NO_TEAM``."""
    if policy.team_key in tags:
        return owner_of(tags, policy)
    known = (*policy.required, *policy.optional)
    for key, candidate in tags.items():
        if intended_key(key, known) == policy.team_key and candidate.strip():
            return candidate.strip()
    return NO_TEAM


def audit_resources(resources: Iterable[TagMapping], policy: TagPolicy) -> list[ResourceViolation]:
    """Every resource whose tags break the policy, with its team."""
    violations = []
    for resource in resources:
        check = validate_tags(resource.tags, policy)
        if not check.ok:
            violations.append(ResourceViolation(resource.arn, resource.region, team_of(resource.tags, policy), check))
    return violations


# --- untagged spend --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UntaggedShare:
    """Spend without the team tag over the last ``days`` days and the ``days`` before."""

    days: int
    end: date  # exclusive
    current_untagged: float
    current_total: float
    previous_untagged: float
    previous_total: float

    @property
    def share(self) -> float | None:
        return self.current_untagged / self.current_total if self.current_total > 0 else None

    @property
    def previous_share(self) -> float | None:
        return self.previous_untagged / self.previous_total if self.previous_total > 0 else None

    @property
    def change_points(self) -> float | None:
        """Change in percentage points (``+3.1`` = from 15.3% to 18.4%)."""
        if self.share is None or self.previous_share is None:
            return None
        return (self.share - self.previous_share) * 100

    def trend(self) -> str:
        change = self.change_points
        if change is None:
            return "no earlier week to compare"
        if abs(change) < 0.05:
            return f"unchanged from {self.previous_share:.1%}"
        direction = "up" if change > 0 else "down"
        return f"{direction} {abs(change):.1f} points from {self.previous_share:.1%}"

    def describe(self, team_key: str) -> str:
        if self.share is None:
            return f"no spend recorded in the last {self.days} days"
        return (
            f"{self.share:.1%} of spend ({usd(self.current_untagged)} of {usd(self.current_total)}) had no "
            f"{team_key} tag in the last {self.days} days, {self.trend()}"
        )


def untagged_share(rows: Iterable[CostRow], end: date, days: int = 7) -> UntaggedShare:
    """Split daily rows (grouped by the team tag; value ``""`` = untagged) into this window and the one before."""
    current_start, previous_start = end - timedelta(days=days), end - timedelta(days=2 * days)
    totals = {"cu": 0.0, "ct": 0.0, "pu": 0.0, "pt": 0.0}
    for row in rows:
        window = "c" if current_start <= row.day < end else "p" if previous_start <= row.day < current_start else ""
        if not window:
            continue
        totals[f"{window}t"] += row.amount
        if not row.value.strip():
            totals[f"{window}u"] += row.amount
    return UntaggedShare(days, end, totals["cu"], totals["ct"], totals["pu"], totals["pt"])


# --- cost allocation tags --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationStatus:
    """``Active`` / ``Inactive`` / ``None`` (never seen by billing) per policy key."""

    status: dict[str, str | None]

    @property
    def inactive(self) -> list[str]:
        return [key for key, value in self.status.items() if value == "Inactive"]

    @property
    def unseen(self) -> list[str]:
        return [key for key, value in self.status.items() if value is None]

    @property
    def ok(self) -> bool:
        return not self.inactive and not self.unseen

    def describe(self) -> str:
        if self.ok:
            return "all policy keys are active cost allocation tags"
        parts = []
        if self.inactive:
            parts.append(f"inactive: {', '.join(self.inactive)}")
        if self.unseen:
            parts.append(f"not yet seen by billing (no tagged usage yet): {', '.join(self.unseen)}")
        return f"cost allocation tags not active ({'; '.join(parts)}) - {ACTIVATE_HINT}"


# --- digests ---------------------------------------------------------------------------------------------------


@dataclass
class AuditFacts:
    """Everything the account-level digest reports besides violations."""

    scanned: int = 0
    #: EC2 instances the tagging API returned although terminated: left out of ``scanned`` and the checks.
    terminated_skipped: int = 0
    regions: Sequence[str] = ()
    failed_regions: Mapping[str, str] = field(default_factory=dict)
    share: UntaggedShare | None = None
    allocation: AllocationStatus | None = None
    errors: Sequence[str] = ()


def _week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _common_problems(violations: Sequence[ResourceViolation]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for violation in violations:
        for finding in violation.check.violations:
            label = "missing" if finding.code == Code.MISSING else finding.code.value.replace("_", " ")
            counts[f"{label} {finding.key}"] += 1
    return counts


def _items(violations: Sequence[ResourceViolation], max_items: int) -> list[str]:
    return truncate([v.line() for v in violations[:max_items]], max_items, total=len(violations))


def _team_event(
    team: str, violations: Sequence[ResourceViolation], occurred_at: datetime, max_items: int
) -> AlertEvent:
    common = _common_problems(violations)
    top = ", ".join(f"{label} ({count})" for label, count in common.most_common(3))
    problems = sum(common.values())
    return build(
        AlertKind.TAG_VIOLATION,
        Severity.WARNING,
        team,
        TagViolationKey(team, _week(occurred_at)),
        title=f"{len(violations)} {team} resource(s) break the tag policy",
        summary=f"Fix the tags below so cost reaches the right team. Most common: {top}.",
        figures={
            "Resources": len(violations),
            "Problems": problems,
            "Most common": common.most_common(1)[0][0] if common else "-",
        },
        items=_items(violations, max_items),
        extra={"resources": [v.to_dict() for v in violations[:max_items]], "week": _week(occurred_at)},
        now=occurred_at,
    )


def _account_event(
    violations: Sequence[ResourceViolation], facts: AuditFacts, policy: TagPolicy, occurred_at: datetime, max_items: int
) -> AlertEvent:
    figures = {"Resources scanned": str(facts.scanned), "No team": str(len(violations))}
    lines: list[str] = []
    warn = bool(violations) or bool(facts.failed_regions) or bool(facts.errors)
    if facts.share is not None and facts.share.share is not None:
        figures[f"Untagged spend ({facts.share.days}d)"] = f"{facts.share.share:.1%}"
        figures["Trend"] = facts.share.trend()
        warn = warn or facts.share.share > policy.untagged_share_warn
    if facts.allocation is not None:
        figures["Cost allocation tags"] = "active" if facts.allocation.ok else "NOT ACTIVE"
        if not facts.allocation.ok:
            lines.append(facts.allocation.describe())
            warn = True
    lines.extend(f"region {region} not scanned: {error}" for region, error in facts.failed_regions.items())
    lines.extend(facts.errors)
    lines.extend(_items(violations, max_items))
    headline = facts.share.describe(policy.team_key) if facts.share is not None else "untagged spend not measured"
    summary_parts = [headline[0].upper() + headline[1:] + "."]
    if facts.allocation is not None and not facts.allocation.ok:
        summary_parts.append(
            f"Cost allocation tags {', '.join(facts.allocation.inactive + facts.allocation.unseen)} "
            f"are not active: {ACTIVATE_HINT}."
        )
    if violations:
        summary_parts.append(f"{len(violations)} resource(s) have no {policy.team_key} tag: nobody owns their cost.")
    share_text = f"{facts.share.share:.0%} untagged spend" if facts.share and facts.share.share is not None else ""
    title = "Tag audit: " + ", ".join(
        part for part in (share_text, f"{len(violations)} resource(s) without a team" if violations else "") if part
    )
    return build(
        AlertKind.TAG_VIOLATION,
        Severity.WARNING if warn else Severity.INFO,
        NO_TEAM,
        TagViolationKey(NO_TEAM, _week(occurred_at)),
        title=title if title != "Tag audit: " else "Tag audit: account summary",
        summary=" ".join(summary_parts),
        figures=figures,
        items=lines,
        extra={
            "resources": [v.to_dict() for v in violations[:max_items]],
            "untagged_share": None
            if facts.share is None
            else {
                "days": facts.share.days,
                "current_untagged_usd": round(facts.share.current_untagged, 2),
                "current_total_usd": round(facts.share.current_total, 2),
                "previous_untagged_usd": round(facts.share.previous_untagged, 2),
                "previous_total_usd": round(facts.share.previous_total, 2),
                "share": facts.share.share,
                "previous_share": facts.share.previous_share,
            },
            "cost_allocation_tags": None if facts.allocation is None else facts.allocation.status,
            "regions": list(facts.regions),
            "failed_regions": dict(facts.failed_regions),
            "week": _week(occurred_at),
        },
        now=occurred_at,
    )


def build_digests(
    violations: Sequence[ResourceViolation],
    facts: AuditFacts,
    policy: TagPolicy,
    occurred_at: datetime,
    *,
    max_items: int = MAX_ITEMS,
) -> list[AlertEvent]:
    """One event per team with violations (sorted by team), then the account-level ``no team`` event."""
    by_team: dict[str, list[ResourceViolation]] = {}
    for violation in violations:
        by_team.setdefault(violation.team, []).append(violation)
    events = [
        _team_event(team, sorted(items, key=lambda v: v.arn), occurred_at, max_items)
        for team, items in sorted(by_team.items())
        if team != NO_TEAM
    ]
    orphans = sorted(by_team.get(NO_TEAM, []), key=lambda v: v.arn)
    events.append(_account_event(orphans, facts, policy, occurred_at, max_items))
    return events
