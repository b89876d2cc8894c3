"""Running EC2 instances, and the Auto Scaling groups and EKS node groups they roll up into.

Judged on ``CPUUtilization`` (AWS/EC2) and, for GPU instances (families in ``idle.gpu_families``), on the CloudWatch
agent's per-GPU metrics, whose dimension sets (one per GPU ``index``) are found with one paged ``ListMetrics`` per
GPU metric name, never one call per instance. GPU instances are judged by the GPU: GPU busy → busy, whatever the
CPU does (a GPU fed by a light data loader); GPU idle and CPU busy → ``gpu_idle`` (paying for a GPU, using a CPU);
both idle → ``idle``. A GPU instance without GPU metrics is ``no_metrics`` ("enable the agent's nvidia_smi
collection"), never a guess from the CPU.

Members of an Auto Scaling group or EKS node group are judged one by one and combined (the group is idle only when
every member is; its price is the sum of theirs). EMR members are left to the EMR check (priced into their cluster).
An instance whose parent the inventory did not see is judged as itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from costwarden.idle.checks.base import HOUR, Candidate, IdleCheck, Priced, RegionScan
from costwarden.idle.judge import (
    Points,
    State,
    Utilisation,
    Verdict,
    busiest,
    combine_members,
    days_text,
    hourly,
    is_gpu_type,
    too_young,
    utilisation,
)
from costwarden.idle.model import Kind, Window
from costwarden.models.idle_ports import Dimensions, MetricQuery
from costwarden.models.pricing import total
from costwarden.resources.base import error_text
from costwarden.resources.model import Resource
from costwarden.settings import IdleSettings

#: The parents whose running members are judged here and combined.
GROUP_TYPES = ("autoscaling:group", "eks:nodegroup")


def judge_instance(  # noqa: PLR0911, PLR0917 - one return per rule, in order; one input per signal
    instance_type: str,
    launched: datetime | None,
    cpu: Points,
    gpus: Sequence[Points] | None,
    window: Window,
    cfg: IdleSettings,
) -> Verdict:
    """One running EC2 instance. ``gpus``: one series per GPU (``index``); None or empty when no GPU metric exists."""
    if reason := too_young(launched, window):
        return Verdict(None, reason, judged=False)
    cpu_u = utilisation(hourly(cpu, window), window, cfg)
    cpu_text = cpu_u.describe("CPU", window.days)
    if not is_gpu_type(instance_type, cfg):
        if cpu_u.state is State.NO_DATA:
            return Verdict(Kind.NO_METRICS, f"no CPUUtilization data points over {days_text(window.days)}")
        if cpu_u.state is State.INSUFFICIENT:
            return Verdict(None, f"not enough data to judge: {cpu_text}", judged=False)
        if cpu_u.state is State.BUSY:
            return Verdict(None, cpu_text)
        return Verdict(Kind.IDLE, f"{cpu_text} ({cpu_u.busy_hours} busy hours)")
    if not gpus:
        return Verdict(
            Kind.NO_METRICS,
            f"cannot judge the GPU of this {instance_type}: no GPU utilisation metric "
            f"({' / '.join(cfg.gpu_metrics)}); enable the CloudWatch agent's nvidia_smi collection. {cpu_text}",
        )
    gpu_u = utilisation(busiest(gpus, window), window, cfg)
    gpu_text = gpu_u.describe("GPU", window.days)
    if gpu_u.state is State.BUSY:
        return Verdict(None, f"{gpu_text}, {_short(cpu_u)}")
    if gpu_u.state is not State.IDLE:
        return Verdict(None, f"not enough GPU data to judge: {gpu_text}", judged=False)
    if cpu_u.state is State.BUSY:
        return Verdict(Kind.GPU_IDLE, f"{gpu_text}, {_short(cpu_u)}: paying for a GPU, using a CPU")
    if cpu_u.state is State.IDLE:
        return Verdict(Kind.IDLE, f"{gpu_text}, {_short(cpu_u)}")
    return Verdict(Kind.GPU_IDLE, f"{gpu_text}, {_short(cpu_u)}")


def _short(u: Utilisation) -> str:
    if u.max_hourly is None:
        return "CPU: no data"
    return f"CPU {u.max_hourly:.0f} %" + (" (sparse data)" if u.state is State.INSUFFICIENT else "")


@dataclass(frozen=True)
class _Facts:
    """An instance's group (None: judged as itself) and whether its GPU dimension listing failed."""

    parent: Resource | None
    gpu_unlisted: bool = False


class Ec2Instances(IdleCheck):
    name = "ec2-instance"
    types = ("ec2:instance", *GROUP_TYPES)
    kinds = frozenset({Kind.IDLE, Kind.GPU_IDLE, Kind.NO_METRICS})
    prices = ("ec2",)
    inventory = ("ec2:instance", *GROUP_TYPES)
    reads = (
        "cloudwatch:GetMetricData",
        "cloudwatch:ListMetrics",
        "eks:ListClusters",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
    )

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.by_type["ec2:instance"] if r.active and r.state == "running"]

    def prepare(self, scan: RegionScan) -> list[Candidate]:
        """Standalone instances first, then group members; every CPU query, then every GPU query (as read)."""
        parents = {(r.type, r.key or r.id): r for t in GROUP_TYPES for r in scan.by_type[t]}
        standalone: list[Resource] = []
        members: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        for instance in self.candidates(scan):
            parent = instance.parent
            if parent is not None and parent.type == "emr:cluster":
                continue  # priced into its cluster by the EMR check
            if parent is not None and (parent.type, parent.key) in parents:
                members[(parent.type, parent.key)].append(instance)
            else:
                standalone.append(instance)  # alone, or its parent is gone: judged as itself
        judged = [(r, None) for r in standalone] + [(m, parents[k]) for k, group in members.items() for m in group]
        gpu_dims, unlisted = self._gpu_dimensions(
            scan, [r for r, _ in judged if is_gpu_type(r.details.get("instance_type", ""), scan.cfg)]
        )
        cpu = {
            r.id: scan.query(MetricQuery("AWS/EC2", "CPUUtilization", (("InstanceId", r.id),), "Average", HOUR))
            for r, _ in judged
        }
        gpus = {
            instance_id: [
                scan.query(MetricQuery(scan.cfg.gpu_namespace, name, dims, "Average", HOUR)) for name, dims in sets
            ]
            for instance_id, sets in gpu_dims.items()
        }
        return [
            Candidate(
                r,
                (cpu[r.id], *gpus.get(r.id, [])),
                _Facts(parent, unlisted and r.id in gpu_dims and not gpus.get(r.id)),
            )
            for r, parent in judged
        ]

    def _gpu_dimensions(
        self, scan: RegionScan, gpu_instances: list[Resource]
    ) -> tuple[dict[str, list[tuple[str, Dimensions]]], bool]:
        """Per GPU instance, every (metric name, dimension set) of its GPUs (one per ``index``); whether a listing
        failed (its GPU boxes are then not judged, never guessed from the CPU)."""
        wanted = {r.id for r in gpu_instances}
        out: dict[str, list[tuple[str, Dimensions]]] = defaultdict(list)
        failed = False
        if not wanted:
            return out, failed
        cfg = scan.cfg
        for name in cfg.gpu_metrics:
            try:
                sets = scan.ports.metrics.dimensions(scan.region, cfg.gpu_namespace, name)
            except Exception as error:  # see the docstring
                scan.errors.append(f"{scan.region}: ListMetrics {cfg.gpu_namespace}/{name}: {error_text(error)}")
                for instance_id in wanted:
                    out.setdefault(instance_id, [])
                failed = True
                continue
            for dims in sets:
                owner = dict(dims).get("InstanceId", "")
                if owner in wanted:
                    out[owner].append((name, dims))
        return out, failed

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict:
        if candidate.facts.gpu_unlisted:
            return Verdict(None, self.unreadable, judged=False)
        instance = candidate.resource
        return judge_instance(
            instance.details.get("instance_type", ""),
            instance.started_at,
            series[0],
            series[1:],
            scan.window,
            scan.cfg,
        )

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        return scan.price(self, "ec2", str(candidate.resource.details.get("instance_type", "")))

    def report(self, scan: RegionScan, candidates: list[Candidate]) -> None:
        verdicts: dict[str, Verdict] = {}
        groups: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        for candidate in candidates:
            verdicts[candidate.resource.id] = self.verdict(scan, candidate) or Verdict(None, "", judged=False)
        for candidate in candidates:
            parent = candidate.facts.parent
            if parent is not None:
                groups[(parent.type, parent.key or parent.id)].append(candidate)
                continue
            verdict = verdicts[candidate.resource.id]
            if not scan.settle(candidate.resource, verdict) and verdict.kind is not None:
                scan.add(self, candidate.resource, verdict.kind, verdict.evidence, self.price(scan, candidate))
        for _, members in sorted(groups.items()):
            self._report_group(scan, members[0].facts.parent, members, verdicts)

    def _report_group(
        self, scan: RegionScan, parent: Resource, members: list[Candidate], verdicts: dict[str, Verdict]
    ) -> None:
        verdict = combine_members([verdicts[m.resource.id] for m in members])
        if scan.settle(parent, verdict) or verdict.kind is None:
            return
        price = total([self.price(scan, m) for m in members])
        evidence = f"{len(members)} instances; {verdict.evidence}"
        scan.add(self, parent, verdict.kind, evidence, price, members=len(members))

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        r, rid = resource.region, resource.id
        if resource.type == "autoscaling:group":
            return "scale the group to zero, or delete it", [
                f"aws autoscaling update-auto-scaling-group --region {r} --auto-scaling-group-name {rid} "
                "--min-size 0 --desired-capacity 0",
                f"aws autoscaling delete-auto-scaling-group --region {r} --auto-scaling-group-name {rid} "
                "--force-delete",
            ]
        if resource.type == "eks:nodegroup":
            cluster, _, group = (resource.key or rid).partition("/")
            return "scale the node group to zero, or delete it", [
                f"aws eks update-nodegroup-config --region {r} --cluster-name {cluster} --nodegroup-name {group} "
                "--scaling-config minSize=0,desiredSize=0",
                f"aws eks delete-nodegroup --region {r} --cluster-name {cluster} --nodegroup-name {group}",
            ]
        if kind is Kind.GPU_IDLE:
            return "its GPU idles while the CPU works: move the job to a CPU instance type, or stop it", [
                f"aws ec2 stop-instances --region {r} --instance-ids {rid}"
            ]
        if kind is Kind.NO_METRICS:
            return "enable the CloudWatch agent's GPU collection (metrics_collected.nvidia_gpu) so it can be judged", []
        return "stop or terminate it", [
            f"aws ec2 stop-instances --region {r} --instance-ids {rid}",
            f"aws ec2 terminate-instances --region {r} --instance-ids {rid}",
        ]
