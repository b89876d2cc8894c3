"""EC2 instances stopped for longer than ``idle.stopped_days``: they still pay for their EBS volumes (priced from
the inventory's volumes). When it stopped comes from EC2's ``StateTransitionReason``; without a date there, the
instance is not judged. Cluster members are left out (their parent is judged)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from costwarden.idle.checks.base import STORAGE, Candidate, IdleCheck, Priced, RegionScan
from costwarden.idle.judge import Points, Verdict, days_since
from costwarden.idle.model import Kind
from costwarden.models.pricing import total
from costwarden.resources.model import Resource

_STOP_REASON = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


def stopped_since(state_transition_reason: str) -> datetime | None:
    """EC2's ``StateTransitionReason`` (``User initiated (2026-11-01 10:00:00 GMT)``) → when it stopped (moto writes
    ``UTC`` where EC2 writes ``GMT``; both are UTC)."""
    match = _STOP_REASON.search(state_transition_reason or "")
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def volumes_price(check: IdleCheck, scan: RegionScan, volumes: list[Resource]) -> Priced:
    """EBS USD per month of ``volumes`` (GB-month price x size)."""
    parts = [
        scan.price(check, STORAGE, str(v.details.get("volume_type", "")), float(v.details.get("size_gib") or 0))
        for v in volumes
    ]
    return total(parts) if parts else (None, "its volumes were not found in the inventory")


class StoppedInstances(IdleCheck):
    name = "ec2-stopped-instance"
    types = ("ec2:instance",)
    kinds = frozenset({Kind.STOPPED})
    prices = (STORAGE,)
    inventory = ("ec2:instance", "ec2:volume")

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.by_type["ec2:instance"] if r.active and r.state == "stopped" and r.parent is None]

    def describe(self, scan: RegionScan, resource: Resource) -> Any:
        volumes = {r.id: r for r in scan.by_type["ec2:volume"]}
        return [volumes[v] for v in resource.details.get("volumes", []) if v in volumes]

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict | None:
        since = stopped_since(str(candidate.resource.details.get("state_reason", "")))
        days = days_since(since, scan.now)
        if since is None or days is None:
            return Verdict(
                None, "stopped, but since when is unknown (no date in its state transition reason)", judged=False
            )
        if days <= scan.cfg.stopped_days:
            return None
        evidence = (
            f"stopped for {days:.0f} days (since {since:%Y-%m-%d}); its {len(candidate.facts)} volume(s) still bill"
        )
        return Verdict(Kind.STOPPED, evidence)

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        return volumes_price(self, scan, candidate.facts)

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        return "terminate it (snapshot its volumes first if their data matters)", [
            f"aws ec2 terminate-instances --region {resource.region} --instance-ids {resource.id}"
        ]
