"""Idle GPU nodes of EKS, from the bill: a node whose accelerator part no pod reserved or used over the lookback.

Not a CloudWatch check (``idle.checks``): the evidence is CUR 2.0 split cost allocation data, read through the
``K8sSource`` port as one ``NodeDay`` per node and day. AWS splits an accelerated node's hourly cost between GPU,
vCPU and memory and leaves what no pod reserves or uses on the node as unused cost; a node whose unused share of the
GPU part (``gpu_unused_usd / gpu_usd`` summed over the lookback) reaches ``k8s_guard.idle_gpu_unused_share`` is a
``gpu_idle`` finding, priced as the unused accelerator cost per month at the measured rate (what is paid for
nothing; the rest of the node may be busy), owned by the node group's team (``NodeDay.team``).

The findings join the idle finder's own (``run_idle``): the same keeps from Slack, the same weekly team alert, the
same digest summary. Nothing acts on them (``eks_gpu_node`` is no registry type: Slack offers *Keep*, never
*Stop*; scaling a node pool is the team's call, and the suggested commands say how to look).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from costwarden.core.money import usd
from costwarden.idle.judge import days_text
from costwarden.idle.model import Finding, Kind
from costwarden.models.k8s import NodeDay
from costwarden.models.ports import K8sSource, error_text
from costwarden.models.pricing import HOURS_PER_MONTH
from costwarden.settings import K8sGuardSettings, Settings

#: The finding's ``type`` (not a reaper registry type: nothing acts on a Kubernetes node from here).
NODE_TYPE = "eks_gpu_node"
PRICE_NOTE = "unused accelerator cost from CUR 2.0 split cost allocation data, at the measured rate"


@dataclass(frozen=True)
class NodeTotal:
    """One node's lookback, summed over the days it appears."""

    account: str
    cluster: str
    node: str
    instance_type: str
    team: str
    days: int
    cost_usd: float
    gpu_usd: float
    gpu_unused_usd: float

    @property
    def unused_share(self) -> float:
        return self.gpu_unused_usd / self.gpu_usd if self.gpu_usd > 0 else 0.0


def _problem(node: NodeDay) -> str | None:
    """Why a node's day cannot be judged (a hostile or broken row), else None."""
    figures = {"cost_usd": node.cost_usd, "gpu_usd": node.gpu_usd, "gpu_unused_usd": node.gpu_unused_usd}
    for name, value in figures.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            return f"{name} is {value!r}, not an amount >= 0"
    if node.gpu_unused_usd > node.gpu_usd + 0.01:
        return f"gpu_unused_usd {node.gpu_unused_usd:.2f} exceeds gpu_usd {node.gpu_usd:.2f}"
    return None


def totals(nodes: Sequence[NodeDay]) -> tuple[list[NodeTotal], list[str]]:
    """Per (account, cluster, node): the lookback's sums; rows that cannot be judged are left out and named."""
    grouped: dict[tuple[str, str, str], list[NodeDay]] = defaultdict(list)
    problems: list[str] = []
    for node in nodes:
        problem = _problem(node)
        if problem:
            problems.append(f"k8s node {node.cluster}/{node.node} on {node.date}: {problem}; not judged")
            continue
        grouped[(node.account, node.cluster, node.node)].append(node)
    out = []
    for (account, cluster, node_id), days in sorted(grouped.items()):
        newest = max(days, key=lambda d: d.date)
        out.append(
            NodeTotal(
                account,
                cluster,
                node_id,
                newest.instance_type,
                newest.team,
                len({d.date for d in days}),
                sum(d.cost_usd for d in days),
                sum(d.gpu_usd for d in days),
                sum(d.gpu_unused_usd for d in days),
            )
        )
    return out, problems


def finding(total: NodeTotal) -> Finding:
    """The ``gpu_idle`` finding of one node, priced as its unused accelerator cost per month."""
    hours = total.days * 24
    monthly = total.gpu_unused_usd / hours * HOURS_PER_MONTH
    evidence = (
        f"{total.unused_share:.0%} of its GPU cost ({usd(total.gpu_unused_usd)} of {usd(total.gpu_usd)}) reserved "
        f"and used by no pod over {days_text(total.days)}, in cluster {total.cluster} "
        f"({total.instance_type}, {usd(total.cost_usd)} in all)"
    )
    return Finding(
        arn=f"arn:aws:ec2::{total.account}:instance/{total.node}",
        id=total.node,
        type=NODE_TYPE,
        region="",
        team=total.team,
        kind=Kind.GPU_IDLE,
        monthly_usd=monthly,
        evidence=evidence,
        recommendation=(
            "Scale its node pool down, or schedule GPU pods onto it (requests of nvidia.com/gpu); "
            "AWS charges whole accelerators, so fractional requests do not use the rest"
        ),
        price_note=PRICE_NOTE,
        commands=(
            f"aws ec2 describe-instances --instance-ids {total.node} --query 'Reservations[].Instances[].Tags'",
            "kubectl get pods -A -o wide --field-selector spec.nodeName=<the node's name>",
        ),
        judged_hours=float(hours),
    )


def gpu_findings(nodes: Sequence[NodeDay], cfg: K8sGuardSettings) -> tuple[list[Finding], list[str]]:
    """The idle GPU nodes among ``nodes`` (the lookback's days), and the rows left out as unjudgeable."""
    found, problems = totals(nodes)
    idle = [
        finding(t)
        for t in found
        if t.gpu_usd > 0
        and t.unused_share >= cfg.idle_gpu_unused_share
        and t.gpu_unused_usd / t.days >= cfg.idle_gpu_min_usd_per_day
    ]
    return idle, problems


def read_findings(source: K8sSource, settings: Settings, now: datetime) -> tuple[list[Finding], list[str]]:
    """The idle finder's lookback (whole UTC days before ``now``) read through the port and judged; a failed read
    is an error of the run, never an empty verdict."""
    end = now.date()
    start: date = end - timedelta(days=settings.idle.lookback_days)
    try:
        nodes = source.node_days(start, end)
    except Exception as error:  # the run reports it; the CloudWatch checks' findings still go out
        return [], [f"k8s node costs not read ({start} to {end}): {error_text(error)}"]
    return gpu_findings(nodes, settings.k8s_guard)
