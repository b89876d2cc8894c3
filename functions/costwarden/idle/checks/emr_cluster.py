"""EMR clusters, judged by ``IsIdle`` (AWS/ElasticMapReduce, 5-minute points over the last ``idle.emr_idle_hours``)
and priced as the EC2 on-demand price of their instance groups (``ListInstanceGroups``; the members the inventory
saw when that fails). The EMR fee is not included, and the price note says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from costwarden.idle.checks.base import Candidate, IdleCheck, Priced, RegionScan
from costwarden.idle.judge import Points, Verdict
from costwarden.idle.model import Kind, Window
from costwarden.models.idle_ports import MetricQuery
from costwarden.models.pricing import total
from costwarden.resources.base import error_text
from costwarden.resources.model import Resource
from costwarden.settings import IdleSettings

EMR_PERIOD = 300


def judge_emr(created: datetime | None, is_idle: Points, now: datetime, cfg: IdleSettings) -> Verdict:
    """An EMR cluster from ``IsIdle`` (1 when no job runs), 5-minute points over the last ``emr_idle_hours``: idle
    only when every point is 1 and at least ``min_coverage`` of the expected points are there."""
    start = now - timedelta(hours=cfg.emr_idle_hours)
    if created is not None and created > start:
        return Verdict(None, f"started less than {cfg.emr_idle_hours} h ago", judged=False)
    values = [value for moment, value in is_idle if start <= moment.astimezone(UTC) <= now]
    expected = cfg.emr_idle_hours * 12
    if not values:
        return Verdict(None, f"no IsIdle data points in the last {cfg.emr_idle_hours} h", judged=False)
    if min(values) < 1:
        return Verdict(None, f"ran work in the last {cfg.emr_idle_hours} h")
    if len(values) < cfg.min_coverage * expected:
        return Verdict(None, f"only {len(values)} of {expected} IsIdle points", judged=False)
    return Verdict(Kind.IDLE, f"IsIdle = 1 throughout the last {cfg.emr_idle_hours} h ({len(values)} points)")


class EmrClusters(IdleCheck):
    name = "emr-cluster"
    types = ("emr:cluster",)
    kinds = frozenset({Kind.IDLE})
    prices = ("ec2",)
    inventory = ("emr:cluster", "ec2:instance")
    reads = (
        "cloudwatch:GetMetricData",
        "elasticmapreduce:ListInstanceGroups",
        "elasticmapreduce:GetAutoTerminationPolicy",
    )
    unreadable = "its IsIdle metric could not be read this run"

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.by_type["emr:cluster"] if r.active and r.state in ("RUNNING", "WAITING")]

    def window(self, scan: RegionScan) -> Window:
        return Window(scan.now - timedelta(hours=scan.cfg.emr_idle_hours), scan.now)

    def queries(self, scan: RegionScan, resource: Resource, facts: Any) -> list[MetricQuery]:
        return [MetricQuery("AWS/ElasticMapReduce", "IsIdle", (("JobFlowId", resource.id),), "Average", EMR_PERIOD)]

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict:
        return judge_emr(candidate.resource.started_at, series[0], scan.now, scan.cfg)

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        """EC2 on-demand price of the cluster's instance groups (the EMR fee is not included, and says so)."""
        cluster = candidate.resource
        try:
            groups = scan.ports.describe.emr_instance_groups(scan.region, cluster.id)
        except Exception as error:  # fall back to the members the inventory saw
            groups = []
            scan.errors.append(f"{scan.region}: instance groups of {cluster.id}: {error_text(error)}")
        if not groups:
            groups = [(m.details.get("instance_type", ""), 1) for m in self._members(scan, cluster)]
        if not groups:
            return None, "its instances could not be found"
        usd, note = total([scan.price(self, "ec2", instance_type, count) for instance_type, count in groups])
        return usd, note or "EC2 on-demand price of its instances (the EMR fee is not included)"

    @staticmethod
    def _members(scan: RegionScan, cluster: Resource) -> list[Resource]:
        return [
            r
            for r in scan.by_type["ec2:instance"]
            if r.active
            and r.state == "running"
            and r.parent is not None
            and r.parent.type == "emr:cluster"
            and r.parent.key == cluster.id
        ]

    def suggestion_facts(self, scan: RegionScan, candidate: Candidate) -> dict[str, Any]:
        return {"auto_termination": scan.ports.describe.emr_auto_termination(scan.region, candidate.resource.id)}

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        terminate = f"aws emr terminate-clusters --region {resource.region} --cluster-ids {resource.id}"
        policy = extra.get("auto_termination")
        if policy is True:
            return "terminate it (it has an auto-termination policy, but it is still up and idle)", [terminate]
        put = (
            f"aws emr put-auto-termination-policy --region {resource.region} --cluster-id {resource.id} "
            "--auto-termination-policy IdleTimeout=3600"
        )
        unknown = " (its auto-termination policy could not be read)" if policy is None else ""
        return f"terminate it, and give clusters an auto-termination policy{unknown}", [terminate, put]
