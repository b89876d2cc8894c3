"""Demo chapter: Kubernetes on EKS. Namespace spend guarded like a team's, and the idle GPU node charged to its owner.

The facts are a simulated month of one cluster's CUR 2.0 split cost allocation data, already allocated per
namespace, workload and node (``models.k8s``: what ``costwarden.k8s`` produces from the split rows; this chapter
builds the facts directly, with AWS's split of an accelerated node into GPU, vCPU and memory parts and its unused
cost left on the node). They reach the cost monitor and the idle finder through the ``K8sSource`` port, exactly as
the Athena source would deliver them.

The chapter keeps its own state (a fresh account's table, in memory) so the earlier chapters' cached team spend and
episodes do not mix into its story; alerts go through the demo's real alert topic to the Slack stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.state import MemoryStateStore
from costwarden.core.money import usd
from costwarden.cost.monitor import run
from costwarden.demo.env import DemoEnv
from costwarden.idle.run import run_idle
from costwarden.models.k8s import GroupBy, GroupDay, NodeDay
from costwarden.services.advisor.k8s_report import kubernetes_section
from costwarden.services.idle import aws_ports

CLUSTER = "ml-prod"
#: The run judges 2026-11-28: a day no other chapter's digest is for (the notifier would take it for a repeat).
TODAY = date(2026, 11, 29)
DAYS = 50
#: Namespace -> (team, GPU share of its cost, {workload: USD a day}).
NAMESPACES: dict[str, tuple[str, float, dict[str, float]]] = {
    "llm-training": ("nlp", 0.72, {"pretrain-13b": 2000.0, "finetune-7b": 400.0}),
    "recsys-serving": ("recsys", 0.10, {"ranker": 450.0, "feature-store": 150.0}),
    "vision-batch": ("vision", 0.50, {"labeler": 700.0, "embed": 200.0}),
}
#: The runaway on the last day: a fine-tune left running on eight more GPUs.
RUNAWAY = ("llm-training", "finetune-7b", 2600.0)


@dataclass(frozen=True)
class Pool:
    """A GPU node pool: its owner, instance type, on-demand USD/hour, the GPU part of that hourly cost (AWS's
    weights for the instance), its node ids, and the share of the GPU part no pod reserves or uses."""

    team: str
    instance_type: str
    hourly_usd: float
    gpu_weight: float
    nodes: tuple[str, ...]
    unused_share: float


POOLS = (
    Pool(
        "nlp",
        "p4d.24xlarge",
        32.7726,
        0.85,
        ("i-0a1c4e2b7d9f30561", "i-0a1c4e2b7d9f30562", "i-0a1c4e2b7d9f30563"),
        0.04,
    ),
    Pool("vision", "g5.12xlarge", 5.672, 0.80, ("i-0b7e5d1c9a3f26e41", "i-0b7e5d1c9a3f26e42"), 0.10),
    #: One vision node whose GPUs nobody requests: the idle finding.
    Pool("vision", "g5.12xlarge", 5.672, 0.80, ("i-0b7e5d1c9a3f26e48",), 0.93),
)


@dataclass
class FactsSource:
    """A ``K8sSource`` over facts held in memory: the demo's (and the tests') stand-in for the Athena source."""

    groups: list[GroupDay] = field(default_factory=list)
    nodes: list[NodeDay] = field(default_factory=list)
    requests: int = 0
    asked: list[tuple[str, date, date]] = field(default_factory=list)

    def group_days(self, start: date, end: date, by: GroupBy) -> list[GroupDay]:
        self.requests += 1
        self.asked.append((by, start, end))
        return [g for g in self.groups if g.by == by and start <= g.date < end]

    def node_days(self, start: date, end: date) -> list[NodeDay]:
        self.requests += 1
        self.asked.append(("node", start, end))
        return [n for n in self.nodes if start <= n.date < end]


def _group(day: date, key: str, *, account: str, by: GroupBy, team: str, cost: float, gpu_share: float) -> GroupDay:
    rest = cost * (1 - gpu_share)
    return GroupDay(day, account, CLUSTER, by, key, team, cost, rest * 0.7, rest * 0.3, cost * gpu_share, 0.0)


def _node(day: date, node: str, pool: Pool, account: str) -> NodeDay:
    cost = pool.hourly_usd * 24
    gpu = cost * pool.gpu_weight
    unused = gpu * pool.unused_share
    return NodeDay(day, account, CLUSTER, node, pool.instance_type, pool.team, cost, unused, gpu, unused)


def simulated(account: str, today: date = TODAY, seed: int = 24) -> FactsSource:
    """``DAYS`` days of one cluster before ``today``: namespaces and workloads with 4% noise and the GPU node pools
    (one node idle); on the last day ``RUNAWAY`` doubles llm-training."""
    rng = np.random.default_rng(seed)
    source = FactsSource()
    last = today - timedelta(days=1)
    for offset in range(DAYS, 0, -1):
        day = today - timedelta(days=offset)
        for namespace, (team, gpu_share, workloads) in NAMESPACES.items():
            total = 0.0
            for workload, level in workloads.items():
                cost = level * float(rng.normal(1, 0.04))
                if day == last and (namespace, workload) == RUNAWAY[:2]:
                    cost += RUNAWAY[2]
                total += cost
                source.groups.append(
                    _group(
                        day,
                        f"{namespace}/{workload}",
                        account=account,
                        by="workload",
                        team=team,
                        cost=cost,
                        gpu_share=gpu_share,
                    )
                )
            source.groups.append(
                _group(day, namespace, account=account, by="namespace", team=team, cost=total, gpu_share=gpu_share)
            )
        source.nodes += [_node(day, node, pool, account) for pool in POOLS for node in pool.nodes]
    return source


def chapter(env: DemoEnv) -> None:
    settings = env.use_settings({"cost_source": "athena", "k8s_guard": {"enabled": True}})
    source = simulated(env.account_id)
    store = MemoryStateStore()
    env.say(
        f"Simulated: {DAYS} days of EKS cluster {CLUSTER} from CUR 2.0 split cost allocation data, allocated per "
        f"namespace, workload and node: {', '.join(NAMESPACES)}; GPU node pools for nlp (p4d.24xlarge) and vision "
        "(g5.12xlarge). On the last day nlp's finetune-7b was left running on eight more GPUs."
    )
    env.say(
        "The cost monitor guards each namespace as a series of its own (k8s:<cluster>/<namespace>): the same baseline, "
        "episodes and budgets as a team's tag spend, and the alert goes to the namespace's team."
    )
    now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    ce = CostExplorer(client=env.client("ce"), sleep=lambda _s: None)
    result = run(settings, ce=ce, store=store, publish=env.publish, today=TODAY, now=now, k8s=source)
    k8s = result.summary["k8s"]
    for event in result.events:
        if "k8s" in event.details:
            figures = event.details["figures"]
            env.say(
                f"  {event.severity.value}: {event.title} -> team {event.team}; workload {figures['Workload']}, "
                f"GPU share {figures['GPU share']}"
            )
    env.say(f"  {k8s['series']} namespace series judged, {k8s['alerts']} alert(s), {source.requests} reads.")
    env.say("The digest (below, in the default channel) gains a Kubernetes section for November to date.")
    november = kubernetes_section(source, "2026-11", TODAY)
    assert november is not None  # the simulated month has days
    env.say(
        f"The monthly report for {november.month} gains the same section (through {november.last_day}: by namespace, "
        "then unused GPU per pool):"
    )
    for row in november.namespaces:
        env.say(f"  {row.cluster}/{row.name:<16} {row.team:<7} {usd(row.month_to_date_usd):>9}  GPU {usd(row.gpu_usd)}")
    for row in november.gpu_pools:
        env.say(f"  unused GPU, pool {row.name} ({row.team}): {usd(row.unused_usd)} in {november.month}")
    idle = run_idle(
        settings,
        regions=[],
        ports=aws_ports(env.client, store, settings),
        store=store,
        publish_fn=env.publish,
        now=now,
        k8s=source,
    )
    env.say("The idle finder reads the same facts per node: a GPU node nobody schedules onto is charged to its owner.")
    for finding in idle.findings:
        env.say(f"  {finding.team}: {finding.id} {usd(finding.monthly_usd)}/month at this rate — {finding.evidence}")
