"""The Athena question of ``costwarden.k8s``: EKS cost per day and group, rendered from ``k8s/sql/group_day.sql``.

The same aggregation as ``allocate`` (one policy for the unused node cost, the same team order, the same keys), for
a CUR 2.0 Data Export queried where it lives instead of downloaded: partition-pruned on ``billing_period`` and the
usage-start window like the cost monitor's questions (``cost/sql``), and run through the same Athena adapter and
workgroup, so it needs no grant the Athena path does not already have (``tests/infra/test_athena.py``). Verified on
DuckDB against the Python allocation (``tests/unit/k8s/test_k8s_athena_sql.py``).

Only validated values reach the SQL: the table name is matched against a pattern, tag keys are spelled as CUR 2.0
spells them (``[a-z0-9_]``) and quoted, namespace and team names are quoted with ``''`` doubling.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from string import Template
from typing import Any

from costwarden.k8s.columns import OWNER_UNUSED, K8sDataError, label_column, tag_column
from costwarden.k8s.facts import facts
from costwarden.models.k8s import UNALLOCATED, GroupBy, GroupDay, NodeDay, UnusedPolicy
from costwarden.settings import K8sSettings

_TABLE = re.compile(r"^[a-z0-9_]{1,255}(\.[a-z0-9_]{1,255})?$")
#: A row's figure: the net (amortized after discounts) column where the export has one, else the gross one.
_NET = {
    "split": "COALESCE(split_line_item_net_split_cost, split_line_item_split_cost, 0)",
    "unused": "COALESCE(split_line_item_net_unused_cost, split_line_item_unused_cost, 0)",
    "node_cost": """CASE line_item_line_item_type
            WHEN 'DiscountedUsage' THEN COALESCE(reservation_net_effective_cost, reservation_effective_cost, 0)
            WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(savings_plan_net_savings_plan_effective_cost,
                savings_plan_savings_plan_effective_cost, 0)
            ELSE COALESCE(line_item_net_unblended_cost, line_item_unblended_cost, 0)
        END""",
}
_GROSS = {
    "split": "COALESCE(split_line_item_split_cost, 0)",
    "unused": "COALESCE(split_line_item_unused_cost, 0)",
    "node_cost": """CASE line_item_line_item_type
            WHEN 'DiscountedUsage' THEN COALESCE(reservation_effective_cost, 0)
            WHEN 'SavingsPlanCoveredUsage' THEN COALESCE(savings_plan_savings_plan_effective_cost, 0)
            ELSE COALESCE(line_item_unblended_cost, 0)
        END""",
}


def quote(value: str) -> str:
    """A SQL string literal (Trino and DuckDB both escape a quote by doubling it)."""
    return "'" + value.replace("'", "''") + "'"


def _map_key(column: str) -> str:
    return quote(column.removeprefix("resource_tags_"))


def _months(start: dt.date, end: dt.date) -> list[str]:
    months, day = [], start.replace(day=1)
    while day < end:
        months.append(f"{day:%Y-%m}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def _node_hours(table: str, start: dt.date, end: dt.date, policy: K8sSettings, *, net: bool) -> str:
    """``node_hours.sql`` for ``[start, end)``: the CTEs both questions start with (validated names only)."""
    if not _TABLE.match(table):
        raise K8sDataError(f"table name {table!r} must match {_TABLE.pattern}")
    if end <= start:
        raise K8sDataError(f"empty window [{start}, {end})")
    figures = _NET if net else _GROSS
    workload = label_column(policy.workload_label) if policy.workload_label else tag_column("aws:eks:deployment")
    return (
        Template(_sql("node_hours"))
        .substitute(
            table=table,
            billing_periods=", ".join(quote(month) for month in _months(start, end)),
            start=f"{start.isoformat()} 00:00:00",
            end=f"{end.isoformat()} 00:00:00",
            workload_key=_map_key(workload),
            team_label_key=_map_key(label_column(policy.team_label)),
            node_team_key=_map_key(label_column(policy.node_team_tag)),
            split=figures["split"],
            unused=figures["unused"],
            node_cost=figures["node_cost"],
        )
        .rstrip("\n")
    )


def render(
    table: str,
    start: dt.date,
    end: dt.date,
    settings: K8sSettings | None = None,
    *,
    by: GroupBy = "namespace",
    unused: UnusedPolicy | None = None,
    net: bool = True,
) -> str:
    """The SQL of the groups' days over ``[start, end)`` (``allocate``'s ``GroupDay``); ``net``: the export has the
    ``*_net_*`` columns (select them in the Data Export: an account with discounts fills them)."""
    policy = settings or K8sSettings()
    charge = unused or policy.unused
    teams = policy.namespace_teams
    namespace_team = (
        "CASE pods.namespace " + " ".join(f"WHEN {quote(ns)} THEN {quote(team)}" for ns, team in teams.items()) + " END"
        if teams
        else "CAST(NULL AS VARCHAR)"
    )
    if charge == "proportional":
        residual = "(h.cost - h.split - h.aws_unused)"
        charged = f"CASE WHEN h.split = 0 THEN 0 ELSE pods.aws_unused + {residual} * pods.split / h.split END"
        owner_share = "CASE WHEN split = 0 THEN cost - split - aws_unused ELSE 0 END"
    else:
        charged, owner_share = "0", "(cost - split)"
    if charge == "unallocated":
        owner_key, owner_team = quote(UNALLOCATED), quote("unowned")
    else:
        owner_key, owner_team = ("node_team" if by == "team" else quote(OWNER_UNUSED)), "node_team"
    return Template(_sql("group_day")).substitute(
        node_hours=_node_hours(table, start, end, policy, net=net),
        namespace_team=namespace_team,
        charged=charged,
        group_key={"namespace": "namespace", "workload": "namespace || '/' || workload", "team": "team"}[by],
        owner_key=owner_key,
        owner_team=owner_team,
        owner_share=owner_share,
    )


def render_nodes(
    table: str, start: dt.date, end: dt.date, settings: K8sSettings | None = None, *, net: bool = True
) -> str:
    """The SQL of the nodes' days over ``[start, end)`` (``allocate``'s ``NodeDay``)."""
    return Template(_sql("node_day")).substitute(
        node_hours=_node_hours(table, start, end, settings or K8sSettings(), net=net)
    )


def _sql(name: str) -> str:
    return (resources.files("costwarden.k8s") / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def group_days_from_rows(rows: Iterable[Mapping[str, Any]], by: GroupBy) -> list[GroupDay]:
    """The query's rows as the facts ``allocate`` produces (what the guardrails consume, whichever the source)."""
    return facts(GroupDay, ({**row, "date": row["usage_date"], "key": row["group_key"]} for row in rows), by=by)


def node_days_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[NodeDay]:
    """``render_nodes``' rows as ``allocate``'s ``NodeDay`` facts."""
    return facts(NodeDay, ({**row, "date": row["usage_date"]} for row in rows))
