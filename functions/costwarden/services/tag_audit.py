"""The tag audit run: scan (tagging API), measure (Cost Explorer), judge (pure ``audit``), publish (SNS).

EC2 instances the tagging API still returns after termination (it does, for a while in AWS; moto forever) are
dropped after one ``DescribeInstances`` per region and batch, so the audit never asks an owner to tag a corpse.

Shared by the Lambda handler (``costwarden.handlers.tag_audit``), ``costwarden run tag_audit`` and the demo. Every
AWS client is a parameter with a cached default, so tests and the demo pass their own. Partial failure is normal:
a region that cannot be scanned, or a Cost Explorer call that is refused, is reported in the account digest and
the summary, and the rest of the audit goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from costwarden.adapters import aws, ce_tags, tagging
from costwarden.models.alert import AlertEvent
from costwarden.services.topic import publish
from costwarden.settings import Settings
from costwarden.tags.audit import (
    NO_TEAM,
    AllocationStatus,
    AuditFacts,
    ResourceViolation,
    UntaggedShare,
    audit_resources,
    build_digests,
    untagged_share,
)

#: Cost Explorer is served from us-east-1 whatever the deployment region.
CE_REGION = "us-east-1"


@dataclass
class AuditReport:
    events: list[AlertEvent]
    violations: list[ResourceViolation]
    facts: AuditFacts
    published: list[str] = field(default_factory=list)
    publish_errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        share = self.facts.share
        return {
            "resources_scanned": self.facts.scanned,
            "terminated_instances_skipped": self.facts.terminated_skipped,
            "resources_with_violations": len(self.violations),
            "teams": sorted({v.team for v in self.violations if v.team != NO_TEAM}),
            "no_team": sum(1 for v in self.violations if v.team == NO_TEAM),
            "untagged_share": None if share is None else share.share,
            "untagged_share_previous": None if share is None else share.previous_share,
            "cost_allocation_tags_inactive": [] if self.facts.allocation is None else self.facts.allocation.inactive,
            "cost_allocation_tags_unseen": [] if self.facts.allocation is None else self.facts.allocation.unseen,
            "regions": list(self.facts.regions),
            "failed_regions": dict(self.facts.failed_regions),
            "errors": list(self.facts.errors),
            "events": len(self.events),
            "published": len(self.published),
            "publish_errors": self.publish_errors,
        }


def audit_regions(settings: Settings) -> tuple[str, ...]:
    """The reaper's configured regions, else the deployment's region (DESIGN.md)."""
    return settings.reaper.regions or (aws.default_region(),)


def measure_untagged(settings: Settings, ce: Any, now: datetime) -> UntaggedShare:
    days = settings.tags.audit_window_days
    end = now.astimezone(UTC).date()  # today is incomplete: the windows end yesterday (End is exclusive)
    rows = ce_tags.daily_cost_by_tag(
        ce,
        settings.tags.team_key,
        end - timedelta(days=2 * days),
        end,
        metric=settings.anomaly.cost_metric,
        excluded_record_types=settings.anomaly.excluded_record_types,
    )
    return untagged_share(rows, end, days)


def run_audit(
    settings: Settings,
    *,
    now: datetime | None = None,
    regions: Sequence[str] | None = None,
    client_factory: tagging.ClientFactory | None = None,
    ce: Any | None = None,
) -> AuditReport:
    """Scan, measure and judge; returns the events to publish (nothing is published here)."""
    now = now or datetime.now(UTC)
    regions = tuple(regions) if regions is not None else audit_regions(settings)
    policy = settings.tags
    factory = client_factory or tagging.default_client_factory
    scan = tagging.scan(regions, factory)
    resources, gone, describe_errors = tagging.drop_terminated_instances(scan.resources, factory)
    violations = audit_resources(resources, policy)
    ce = ce or aws.client("ce", CE_REGION)
    errors: list[str] = [
        f"EC2 instances in {region} not checked for termination (ec2:DescribeInstances): {error}"
        for region, error in describe_errors.items()
    ]
    share: UntaggedShare | None = None
    allocation: AllocationStatus | None = None
    try:
        share = measure_untagged(settings, ce, now)
    except aws.AWS_ERRORS as error:
        errors.append(f"untagged spend not measured (Cost Explorer GetCostAndUsage): {error}")
    try:
        # Required keys only: they are what cost is split by; optional ones (expires_at...) need not be active.
        allocation = AllocationStatus(ce_tags.cost_allocation_tag_status(ce, policy.required))
    except aws.AWS_ERRORS as error:
        errors.append(f"cost allocation tags not checked (ListCostAllocationTags): {error}")
    facts = AuditFacts(
        scanned=len(resources),
        terminated_skipped=gone,
        regions=regions,
        failed_regions=scan.failed_regions,
        share=share,
        allocation=allocation,
        errors=errors,
    )
    return AuditReport(build_digests(violations, facts, policy, now), violations, facts)


def publish_report(report: AuditReport, topic_arn: str, sns_client: Any | None = None) -> AuditReport:
    """Publish every event; one failing publish does not stop the others (failures are listed in the report)."""
    for event in report.events:
        try:
            report.published.append(publish(event, topic_arn, sns_client))
        except aws.AWS_ERRORS as error:
            report.publish_errors.append(f"{event.team}: {error}")
    return report
