"""Allocate EKS split cost allocation data per day to namespaces, workloads or teams, and to the nodes they ran on.

What the bill holds (AWS Data Exports user guide, "Understanding split cost allocation data"): per pod and hour, one
row per resource (``line_item_usage_type`` ``...vCPU-Hours``, ``...GB-Hours`` and, on accelerated instances, the
accelerator's), each with ``split_line_item_split_cost`` (what the pod was allocated: the larger of what it reserved
and what it used, priced by AWS's weights) and ``split_line_item_unused_cost`` (the pod's share, as AWS apportions
it, of what no pod reserved or used), and ``split_line_item_parent_resource_id``, the node's instance id; the node
itself is its own EC2 line. ``*_net_*`` columns, present when the account has discounts, are the amortized (net)
figures and are read instead of the gross ones, for pods and nodes alike.

Per node and hour, the node's cost is its EC2 line's amortized cost (the pods' split + unused cost when the file
has no line for it). What its pods were not allocated (node cost - pods' split cost) is its **unused** cost, charged
by ``k8s.unused``:

* ``owner`` (the default) — to the node group's team (the instance's ``k8s.node_team_tag`` tag): grouped by team
  it joins that team's line; grouped by namespace or workload (``<namespace>/<workload>``) it is a line keyed
  ``(unused)`` owned by that team.
* ``proportional`` — to the node's pods: each pod's own ``unused_cost`` (AWS's apportionment), and what is left
  (a node line above its split rows) in proportion to the pods' split cost. An hour without pods on the node goes
  to the owner, as above (there is nobody else to share it with).
* ``unallocated`` — a line keyed ``unallocated``, owned by nobody (``unowned``).

Whichever the policy, per node and hour the groups' cost plus any ``unallocated`` line equals the node's cost
(``models.k8s``; property-tested). A pod's team: ``k8s.namespace_teams``, else its ``k8s.team_label`` pod label, else
its node group's team, else ``unowned`` (``core.owner``). All of it is vectorised (pandas group-bys, no per-row
Python): a month of 2,000 pods is ~2.9 M rows (bench/bench_k8s.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from costwarden.core.owner import UNOWNED_TEAM
from costwarden.k8s.columns import OWNER_UNUSED, K8sDataError, label_column, tag_column
from costwarden.k8s.facts import facts
from costwarden.k8s.read import row_label
from costwarden.models.k8s import UNALLOCATED, GroupBy, GroupDay, NodeDay, UnusedPolicy
from costwarden.settings import K8sSettings

START = "line_item_usage_start_date"
RESOURCE_ID = "line_item_resource_id"
PARENT = "split_line_item_parent_resource_id"
USAGE_TYPE = "line_item_usage_type"
LINE_TYPE = "line_item_line_item_type"
ACCOUNT = "line_item_usage_account_id"
SPLIT, NET_SPLIT = "split_line_item_split_cost", "split_line_item_net_split_cost"
UNUSED, NET_UNUSED = "split_line_item_unused_cost", "split_line_item_net_unused_cost"
CLUSTER_TAG, NAMESPACE_TAG = tag_column("aws:eks:cluster-name"), tag_column("aws:eks:namespace")
DEPLOYMENT_TAG = tag_column("aws:eks:deployment")
#: The workload of a pod with no ``aws:eks:deployment`` (a bare pod, a Job) and no configured workload label; a
#: workload's key is ``<namespace>/<workload>`` (``research/trainer``, ``research/(none)``).
NO_WORKLOAD = "(none)"
#: An EKS node's own EC2 line: its instance-hours (on demand, spot, dedicated), whatever pays for them.
_INSTANCE_USAGE = re.compile(r"(?:BoxUsage|SpotUsage|DedicatedUsage|HostUsage)", re.IGNORECASE)
_EXCLUDED_LINES = ("Credit", "Refund", "Tax")
#: Node line type -> (net column, gross column) of its amortized cost; other types are at their unblended cost.
_NODE_COST = {
    "DiscountedUsage": ("reservation_net_effective_cost", "reservation_effective_cost"),
    "SavingsPlanCoveredUsage": (
        "savings_plan_net_savings_plan_effective_cost",
        "savings_plan_savings_plan_effective_cost",
    ),
}
_UNBLENDED = ("line_item_net_unblended_cost", "line_item_unblended_cost")
_MAX_AMOUNT = 1e15
#: Every column ``allocate`` reads besides the tags: what ``read_cur(path, COLUMNS)`` needs of a hundred-column export.
COLUMNS = frozenset(
    {START, RESOURCE_ID, PARENT, USAGE_TYPE, LINE_TYPE, ACCOUNT, SPLIT, NET_SPLIT, UNUSED, NET_UNUSED, *_UNBLENDED}
    | {column for pair in _NODE_COST.values() for column in pair}
)
_FIRST, _LAST = np.datetime64("2000-01-01", "h"), np.datetime64("2100-01-01", "h")


def allocate(
    frame: pd.DataFrame,
    settings: K8sSettings | None = None,
    *,
    by: GroupBy = "namespace",
    unused: UnusedPolicy | None = None,
) -> tuple[list[GroupDay], list[NodeDay]]:
    """Per day: one ``GroupDay`` per cluster, group (``by``) and team, and one ``NodeDay`` per node.

    ``frame`` is ``read_cur``'s table (flat ``resource_tags_*`` columns); ``unused`` overrides ``settings.unused``.
    Raises ``K8sDataError`` naming the row and column of the first cell it cannot read.
    """
    policy = settings or K8sSettings()
    charge = unused or policy.unused
    net = _has_values(frame, NET_SPLIT)
    pods = _pods(frame, policy, net=net)
    nodes = _node_lines(frame, set(pods["node"].unique()), policy, net=net)
    hours = _node_hours(pods, nodes)
    pods["team"] = _teams(pods, hours, policy)
    pods["key"] = _keys(pods, by)
    return _group_days(_charged(pods, hours, charge, by), by), _node_days(hours)


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].notna().any())


def _fail(frame: pd.DataFrame, position: int, column: str, problem: str) -> K8sDataError:
    value = frame[column].iloc[position]
    return K8sDataError(f"{row_label(frame.index[position])}, column {column}: {problem}: {str(value)[:80]!r}")


def _amounts(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A cost column as float; an empty cell is 0, text, ``inf`` or an absurd amount an error naming the row."""
    if column not in frame.columns:
        return np.zeros(len(frame))
    values = frame[column]
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        empty = np.isnan(numbers)
    else:  # text (a CSV): each distinct cell converted once
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        parsed = pd.to_numeric(pd.Series(np.asarray(uniques, dtype=object)), errors="coerce").to_numpy(dtype=float)
        numbers = np.append(parsed, np.nan)[codes]
        empty = codes < 0
    bad = ~empty & ~(np.isfinite(numbers) & (np.abs(numbers) <= _MAX_AMOUNT))
    if bad.any():
        raise _fail(frame, int(bad.argmax()), column, "not a finite amount")
    cleaned: np.ndarray = np.where(empty, 0.0, numbers)
    return cleaned


def _cost(frame: pd.DataFrame, net_column: str, gross_column: str, *, net: bool) -> np.ndarray:
    """The net (amortized after discounts) figure where the file has one, else the gross one, per row."""
    gross = _amounts(frame, gross_column)
    if not net or net_column not in frame.columns:
        return gross
    return np.where(frame[net_column].isna().to_numpy(), gross, _amounts(frame, net_column))


def _hours(frame: pd.DataFrame) -> np.ndarray:
    """``line_item_usage_start_date`` as UTC hours; each distinct value parsed once, a bad one named by row."""
    if START not in frame.columns:
        raise K8sDataError(f"no column {START}: not a CUR export")
    values = frame[START]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():
        raise _fail(frame, int((codes < 0).argmax()), START, "empty usage start")
    text = pd.Series(np.asarray(uniques, dtype=object)).astype(str)
    stamps = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    hours = stamps.dt.tz_localize(None).to_numpy().astype("datetime64[h]")
    bad = stamps.isna().to_numpy() | (hours < _FIRST) | (hours >= _LAST)
    if bad.any():
        raise _fail(frame, int(bad[codes].argmax()), START, "not an ISO 8601 date-time from 2000 to 2099")
    parsed: np.ndarray = hours[codes]
    return parsed


def _text(frame: pd.DataFrame, column: str) -> pd.Categorical:
    """A text column stripped, missing cells (and a missing column) as ``""``: categorical, each distinct value
    stripped once (millions of rows hold a few thousand pods, nodes and namespaces)."""
    if column not in frame.columns:
        return pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int64), categories=[""])
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    names = [str(name).strip() for name in np.asarray(uniques, dtype=object)] + [""]
    merged, categories = pd.factorize(np.array(names, dtype=object))
    return pd.Categorical.from_codes(merged[codes], categories=categories)


def _values(text: pd.Categorical, rule: Callable[[str], str]) -> pd.Categorical:
    """``rule`` applied once per distinct value of a categorical column, spread to its rows (still categorical)."""
    codes, uniques = pd.factorize(np.array([rule(str(name)) for name in text.categories], dtype=object))
    return pd.Categorical.from_codes(codes[text.codes], categories=uniques)


def _matches(text: pd.Categorical, pattern: re.Pattern[str]) -> np.ndarray:
    """Per row: does ``pattern`` occur in its value (searched once per distinct value)."""
    found = np.array([bool(pattern.search(str(name))) for name in text.categories] + [False])
    hits: np.ndarray = found[text.codes]
    return hits


def _kind(usage_type: str) -> str:
    """``cpu`` / ``memory`` / ``gpu`` for a split row's usage type (``...vCPU-Hours``, ``...GB-Hours``, the
    accelerator's); ``other`` for one this version does not know (its cost still counts, in no part)."""
    lowered = usage_type.lower()
    if any(word in lowered for word in ("gpu", "accelerator", "neuron")):
        return "gpu"
    if "vcpu" in lowered:
        return "cpu"
    if "gb-hours" in lowered or "memory" in lowered:
        return "memory"
    return "other"


def _pods(frame: pd.DataFrame, policy: K8sSettings, *, net: bool) -> pd.DataFrame:
    """The EKS split rows (ECS tasks on EC2 have split rows too, without the EKS tags: left out)."""
    if PARENT not in frame.columns or not frame[PARENT].notna().any():
        raise K8sDataError(
            f"no split cost allocation data (no {PARENT} values): turn on split cost allocation data for EKS in the "
            "payer's Cost Management preferences and include it in the CUR 2.0 export (docs/k8s.md)"
        )
    if CLUSTER_TAG not in frame.columns:
        raise K8sDataError(
            f"split rows but no aws:eks:cluster-name tag (column {CLUSTER_TAG}, or resource_tags key "
            "aws_eks_cluster_name): activate the AWS-generated EKS cost allocation tags (docs/k8s.md)"
        )
    parent, cluster = _text(frame, PARENT), _text(frame, CLUSTER_TAG)
    chosen = np.asarray(parent != "") & np.asarray(cluster != "")
    if not chosen.any():
        raise K8sDataError("split rows, but none of an EKS pod (every aws:eks:cluster-name is empty)")
    rows = frame.loc[chosen]
    if NAMESPACE_TAG not in rows.columns:
        raise K8sDataError(f"EKS split rows but no aws:eks:namespace tag (column {NAMESPACE_TAG}): activate it")
    namespace = _text(rows, NAMESPACE_TAG)
    if (np.asarray(namespace) == "").any():
        raise _fail(rows, int((np.asarray(namespace) == "").argmax()), NAMESPACE_TAG, "an EKS pod without a namespace")
    if SPLIT not in rows.columns:
        raise K8sDataError(f"no column {SPLIT}: the export does not include split cost allocation data")
    missing = rows[SPLIT].isna().to_numpy()
    if missing.any():
        raise _fail(rows, int(missing.argmax()), SPLIT, "a split row without a split cost")
    workload_column = label_column(policy.workload_label) if policy.workload_label else DEPLOYMENT_TAG
    workload = _text(rows, workload_column).rename_categories(lambda name: name or NO_WORKLOAD)
    return pd.DataFrame(
        {
            "hour": _hours(rows),
            "account": _text(rows, ACCOUNT),
            "cluster": cluster[chosen],
            "node": parent[chosen],
            "namespace": namespace,
            "workload": workload,
            "label_team": _text(rows, label_column(policy.team_label)),
            "resource": _values(_text(rows, USAGE_TYPE), _kind),
            "split": _cost(rows, NET_SPLIT, SPLIT, net=net),
            "aws_unused": _cost(rows, NET_UNUSED, UNUSED, net=net),
        }
    )


def _node_lines(frame: pd.DataFrame, parents: set[str], policy: K8sSettings, *, net: bool) -> pd.DataFrame:
    """The EC2 instance-hour lines of the nodes the split rows name, at their amortized cost."""
    columns = ["hour", "node", "node_account", "instance_type", "node_team", "cost"]
    if RESOURCE_ID not in frame.columns:
        return pd.DataFrame(columns=columns)
    resource, usage_type, kind = _text(frame, RESOURCE_ID), _text(frame, USAGE_TYPE), _text(frame, LINE_TYPE)
    mask = (
        np.asarray(resource.isin(parents))
        & np.asarray(_text(frame, PARENT) == "")
        & _matches(usage_type, _INSTANCE_USAGE)
        & ~np.asarray(kind.isin(_EXCLUDED_LINES))
    )
    rows = frame.loc[mask]
    kinds = np.asarray(kind[mask], dtype=object)
    cost = _cost(rows, *_UNBLENDED, net=net)
    for line_type, (net_column, gross_column) in _NODE_COST.items():
        covered = kinds == line_type
        if covered.any():
            cost = np.where(covered, _cost(rows, net_column, gross_column, net=net), cost)
    return pd.DataFrame(
        {
            "hour": _hours(rows) if len(rows) else np.array([], dtype="datetime64[h]"),
            "node": np.asarray(resource[mask], dtype=object),
            "node_account": np.asarray(_text(rows, ACCOUNT), dtype=object),
            "instance_type": np.asarray(_values(usage_type[mask], lambda name: name.rsplit(":", 1)[-1]), dtype=object),
            "node_team": np.asarray(_text(rows, label_column(policy.node_team_tag)), dtype=object),
            "cost": cost,
        },
        columns=columns,
    )


def _node_hours(pods: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """One row per node and hour: its cost, its pods' split and AWS-apportioned unused cost, its GPU parts; ``gid``
    numbers the node-hours that have pods, in the order of ``pods.groupby(["node", "hour"]).ngroup()``."""
    gpu = np.asarray(pods["resource"] == "gpu")
    per_hour = (
        pods.assign(
            node_code=pods["node"].cat.codes,
            gpu_split=np.where(gpu, pods["split"], 0.0),
            gpu_unused=np.where(gpu, pods["aws_unused"], 0.0),
        )
        .groupby(["node_code", "hour"], as_index=False, sort=True)[["split", "aws_unused", "gpu_split", "gpu_unused"]]
        .sum()
    )
    per_hour["gid"] = np.arange(len(per_hour))
    per_hour["node"] = pods["node"].cat.categories.to_numpy(dtype=object)[per_hour.pop("node_code").to_numpy()]
    lines = nodes.groupby(["node", "hour"], as_index=False).agg(
        cost=("cost", "sum"),
        node_account=("node_account", "first"),
        instance_type=("instance_type", "first"),
        node_team=("node_team", "first"),
    )
    hours = per_hour.merge(lines, on=["node", "hour"], how="outer")
    for column in ("split", "aws_unused", "gpu_split", "gpu_unused"):
        hours[column] = hours[column].fillna(0.0)
    hours["cost"] = hours["cost"].where(hours["cost"].notna(), hours["split"] + hours["aws_unused"])
    codes = pods["node"].cat.codes.to_numpy()
    _, first_rows = np.unique(codes, return_index=True)  # each node's first split row: its cluster and account
    first = pd.DataFrame(
        {name: pods[name].iloc[first_rows].astype(object).to_numpy() for name in ("cluster", "account")},
        index=pods["node"].cat.categories.to_numpy(dtype=object)[codes[first_rows]],
    )
    hours = hours.join(first, on="node")
    hours["account"] = hours["account"].where(hours["node_account"].isna(), hours["node_account"])
    per_node = hours.groupby("node").agg(instance_type=("instance_type", "first"), node_team=("node_team", _first_team))
    hours["instance_type"] = hours["node"].map(per_node["instance_type"]).fillna("")
    hours["node_team"] = hours["node"].map(per_node["node_team"])
    hours["unused"] = hours["cost"] - hours["split"]
    _gpu_hours_without_pods(hours)
    return hours.drop(columns=["node_account"])


def _first_team(teams: pd.Series) -> str:
    named = teams.dropna()
    named = named[named != ""]
    return str(named.iloc[0]) if len(named) else UNOWNED_TEAM


def _gpu_hours_without_pods(hours: pd.DataFrame) -> None:
    """An hour with no pods has no split rows: its GPU part is the node's own GPU share of cost in its hours with
    pods (the same instance, the same AWS weights); a node never seen with a GPU row has none (never invented)."""
    seen = (hours["split"] + hours["aws_unused"] > 0).to_numpy()
    measured = hours.loc[seen].groupby("node")[["gpu_split", "gpu_unused", "cost"]].sum()
    share = (measured["gpu_split"] + measured["gpu_unused"]) / measured["cost"].where(measured["cost"] > 0)
    per_row = hours["node"].map(share).fillna(0.0).to_numpy()
    hours.loc[~seen, "gpu_unused"] = per_row[~seen] * hours.loc[~seen, "cost"].to_numpy()


def _teams(pods: pd.DataFrame, hours: pd.DataFrame, policy: K8sSettings) -> pd.Categorical:
    """Each pod's team, decided once per distinct (namespace, team label, node) and spread to its rows."""
    node_team = hours.drop_duplicates("node").set_index("node")["node_team"]
    combos = pd.DataFrame(
        {
            "namespace": pods["namespace"].cat.codes,
            "label": pods["label_team"].cat.codes,
            "node": pods["node"].cat.codes,
        }
    )
    index = combos.groupby(["namespace", "label", "node"], sort=False).ngroup().to_numpy()
    unique = combos.drop_duplicates().reset_index(drop=True)
    namespaces = pods["namespace"].cat.categories.to_numpy(dtype=object)[unique["namespace"]]
    labels = pods["label_team"].cat.categories.to_numpy(dtype=object)[unique["label"]]
    nodes = pods["node"].cat.categories.to_numpy(dtype=object)[unique["node"]]
    teams = [
        policy.namespace_teams.get(namespace) or label or node_team.get(node) or UNOWNED_TEAM
        for namespace, label, node in zip(namespaces, labels, nodes, strict=True)
    ]
    return pd.Categorical(np.array(teams, dtype=object)[index])


def _keys(pods: pd.DataFrame, by: GroupBy) -> pd.Series | pd.Categorical:
    """The group of each split row; a workload is ``<namespace>/<workload>`` (named inside its namespace, as in
    Kubernetes: two namespaces' ``trainer`` deployments are two workloads)."""
    if by != "workload":
        return pods[by]
    pairs = pd.DataFrame({"namespace": pods["namespace"].cat.codes, "workload": pods["workload"].cat.codes})
    index = pairs.groupby(["namespace", "workload"], sort=False).ngroup().to_numpy()
    unique = pairs.drop_duplicates().reset_index(drop=True)
    namespaces = pods["namespace"].cat.categories.to_numpy(dtype=object)[unique["namespace"]]
    workloads = pods["workload"].cat.categories.to_numpy(dtype=object)[unique["workload"]]
    names = np.array([f"{ns}/{wl}" for ns, wl in zip(namespaces, workloads, strict=True)], dtype=object)
    return pd.Categorical.from_codes(index, categories=names)


def _node_hour_ids(pods: pd.DataFrame) -> np.ndarray:
    """Each split row's node-hour, numbered as ``_node_hours`` numbers them (``gid``: by node code, then hour)."""
    ids: np.ndarray = pods.assign(node_code=pods["node"].cat.codes).groupby(["node_code", "hour"], sort=True).ngroup()
    return np.asarray(ids)


def _charged(pods: pd.DataFrame, hours: pd.DataFrame, charge: UnusedPolicy, by: GroupBy) -> pd.DataFrame:
    """Every line a group's cost is made of, per day: the pods' split rows (with the unused cost charged to them)
    summed per group, and the lines holding the unused cost charged to a node's owner or left unallocated."""
    unused = np.zeros(len(pods))
    owner_share = hours["unused"].copy()
    if charge == "proportional":
        gid = _node_hour_ids(pods)
        with_pods = hours.dropna(subset=["gid"]).sort_values("gid")
        split_sum = with_pods["split"].to_numpy()[gid]
        residual = (with_pods["unused"] - with_pods["aws_unused"]).to_numpy()[gid]
        weight = np.divide(pods["split"].to_numpy(), split_sum, out=np.zeros(len(pods)), where=split_sum != 0)
        unused = pods["aws_unused"].to_numpy() + residual * weight
        owner_share = (hours["unused"] - hours["aws_unused"]).where(hours["split"] == 0, 0.0)
    split = pods["split"].to_numpy()
    resource = pods["resource"]
    pod_lines = pd.DataFrame(
        {
            "date": pods["hour"].to_numpy().astype("datetime64[D]"),
            **{name: pods[name] for name in ("account", "cluster", "key", "team")},
            **{part: np.where(np.asarray(resource == part), split, 0.0) for part in ("cpu", "memory", "gpu")},
            "cost": split + unused,
            "unused": unused,
        }
    )
    owned = hours.loc[owner_share != 0, ["hour", "account", "cluster", "node_team"]].rename(
        columns={"node_team": "team"}
    )
    owned["date"] = owned.pop("hour").to_numpy().astype("datetime64[D]")
    owned["unused"] = owned["cost"] = owner_share[owner_share != 0]
    owned["cpu"] = owned["memory"] = owned["gpu"] = 0.0
    if charge == "unallocated":
        owned["key"], owned["team"] = UNALLOCATED, UNOWNED_TEAM
    else:
        owned["key"] = owned["team"] if by == "team" else OWNER_UNUSED
    summed = [_per_group(pod_lines), _per_group(owned[pod_lines.columns])]
    return _per_group(pd.concat([part for part in summed if len(part)], ignore_index=True))


_GROUP = ["date", "account", "cluster", "key", "team"]
_FIGURES = ["cost", "cpu", "memory", "gpu", "unused"]


def _per_group(lines: pd.DataFrame) -> pd.DataFrame:
    """Lines summed per day and group, the group's text columns as plain values (a few hundred groups)."""
    days = lines.groupby(_GROUP, as_index=False, observed=True, sort=False)[_FIGURES].sum()
    for name in _GROUP[1:]:
        days[name] = days[name].astype(object)
    return days


def _group_days(days: pd.DataFrame, by: GroupBy) -> list[GroupDay]:
    named = days.sort_values(_GROUP).rename(columns={name: f"{name}_usd" for name in _FIGURES})
    return facts(GroupDay, named.to_dict("records"), by=by)


def _node_days(hours: pd.DataFrame) -> list[NodeDay]:
    hours = hours.assign(
        date=hours["hour"].to_numpy().astype("datetime64[D]"), gpu=hours["gpu_split"] + hours["gpu_unused"]
    )
    days = hours.groupby(["date", "node"], as_index=False).agg(
        account=("account", "first"),
        cluster=("cluster", "first"),
        instance_type=("instance_type", "first"),
        team=("node_team", "first"),
        cost=("cost", "sum"),
        unused=("unused", "sum"),
        gpu=("gpu", "sum"),
        gpu_unused=("gpu_unused", "sum"),
    )
    named = days.rename(columns={name: f"{name}_usd" for name in ("cost", "unused", "gpu", "gpu_unused")})
    return facts(NodeDay, named.to_dict("records"))
