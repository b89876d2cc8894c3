"""``costwarden k8s --cur FILE``: EKS cost per namespace, workload or team from a CUR 2.0 export with split rows.

FILE is a CUR 2.0 Data Export (Parquet or CSV, as AWS writes it; a legacy CUR's flat ``resource_tags_*`` columns
work too) with split cost allocation data on (docs/k8s.md). Each result is one group's day in one cluster:
``date``, ``cluster``, ``account``, the group key (``namespace``, ``workload`` or ``team``), ``team``, ``cost_usd``
(its pods' split cost plus the unused node cost charged to it), ``cpu_usd``, ``memory_usd``, ``gpu_usd`` and
``unused_usd`` (the part of ``cost_usd`` that is the nodes' unused cost, charged by ``--unused``). The results'
``cost_usd`` add up to the cost of the EKS nodes in the file (``totals.node_cost_usd``), whichever the policy.
A file that cannot be read is exit code 2 with a message naming the row and the column, never a traceback.
"""

from __future__ import annotations

import argparse
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import EXIT_OK, CliError
from costwarden.models.k8s import GROUP_BYS, UNUSED_POLICIES

_AMOUNTS = ("cost_usd", "cpu_usd", "memory_usd", "gpu_usd", "unused_usd")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "k8s",
        help="EKS cost per namespace, workload or team from a CUR 2.0 export with split cost allocation data",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--cur", required=True, help="CUR 2.0 export: .parquet, .csv or .csv.gz")
    parser.add_argument("--by", choices=GROUP_BYS, default="namespace", help="group by (default namespace)")
    parser.add_argument(
        "--unused",
        choices=UNUSED_POLICIES,
        default=None,
        help="who pays for what no pod reserved or used on a node (default: the k8s.unused setting, owner)",
    )
    envelope.add_format(parser)
    parser.set_defaults(func=_command)


def _settings() -> Any:
    from costwarden.settings import load_settings

    try:
        return load_settings().k8s
    except ValueError as error:  # SettingsError, or COSTWARDEN_SETTINGS that is not JSON
        raise CliError(str(error)) from None


def _command(args: argparse.Namespace) -> int:
    from costwarden.k8s import K8sDataError, allocate, read_cur
    from costwarden.k8s.allocate import COLUMNS

    settings = _settings()
    try:
        groups, nodes = allocate(read_cur(args.cur, COLUMNS), settings, by=args.by, unused=args.unused)
    except K8sDataError as error:
        raise CliError(f"{args.cur}: {error}" if str(args.cur) not in str(error) else str(error)) from None
    results = [
        {
            "date": group.date.isoformat(),
            "cluster": group.cluster,
            "account": group.account,
            args.by: group.key,
            "team": group.team,
            **{name: round(getattr(group, name), 6) for name in _AMOUNTS},
        }
        for group in sorted(groups, key=lambda group: (group.date, group.cluster, group.key, group.team))
    ]
    totals = {
        "by": args.by,
        "unused_policy": args.unused or settings.unused,
        "groups": len(results),
        "nodes": len({node.node for node in nodes}),
        "cost_usd": round(sum(group.cost_usd for group in groups), 6),
        "node_cost_usd": round(sum(node.cost_usd for node in nodes), 6),
        "unused_usd": round(sum(node.unused_usd for node in nodes), 6),
        "gpu_unused_usd": round(sum(node.gpu_unused_usd for node in nodes), 6),
    }
    if args.format == "json":
        envelope.emit("k8s", results, totals=totals)
    else:
        print(_table(results, args.by, totals))
    return EXIT_OK


def _table(results: list[dict[str, Any]], by: str, totals: dict[str, Any]) -> str:
    from costwarden.core.money import usd

    header = f"{'date':<10}  {'cluster':<20}  {by:<28}  {'team':<16}  {'cost':>10}  {'gpu':>10}  {'unused':>10}"
    lines = [header]
    for row in results:
        lines.append(
            f"{row['date']:<10}  {row['cluster'][:20]:<20}  {row[by][:28]:<28}  {row['team'][:16]:<16}  "
            f"{usd(row['cost_usd'], cents=True):>10}  {usd(row['gpu_usd'], cents=True):>10}  "
            f"{usd(row['unused_usd'], cents=True):>10}"
        )
    lines.append(
        f"{totals['groups']} groups on {totals['nodes']} nodes: {usd(totals['cost_usd'], cents=True)} "
        f"(nodes {usd(totals['node_cost_usd'], cents=True)}, unused {usd(totals['unused_usd'], cents=True)}, "
        f"unused policy {totals['unused_policy']})"
    )
    return "\n".join(lines)
