"""EBS volumes unattached (``available``) for longer than ``idle.volume_unattached_days`` since creation, priced at
the volume type's GB-month price x size."""

from __future__ import annotations

from typing import Any

from costwarden.idle.checks.base import STORAGE, Candidate, IdleCheck, Priced, RegionScan
from costwarden.idle.checks.stopped_instance import volumes_price
from costwarden.idle.judge import Points, Verdict, days_since
from costwarden.idle.model import Kind
from costwarden.resources.model import Resource


class EbsVolumes(IdleCheck):
    name = "ebs-volume"
    types = ("ec2:volume",)
    kinds = frozenset({Kind.UNATTACHED})
    prices = (STORAGE,)
    inventory = ("ec2:volume",)

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.by_type["ec2:volume"] if r.state == "available"]

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict | None:
        volume = candidate.resource
        days = days_since(volume.started_at, scan.now)
        if days is None or days <= scan.cfg.volume_unattached_days:
            return None
        evidence = (
            f"unattached, {volume.details.get('size_gib')} GiB {volume.details.get('volume_type')}, "
            f"created {days:.0f} days ago"
        )
        return Verdict(Kind.UNATTACHED, evidence)

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        return volumes_price(self, scan, [candidate.resource])

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        r, rid = resource.region, resource.id
        return "snapshot it if its data matters, then delete it", [
            f"aws ec2 create-snapshot --region {r} --volume-id {rid}",
            f"aws ec2 delete-volume --region {r} --volume-id {rid}",
        ]
