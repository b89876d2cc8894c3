"""Unit costs per day or month: USD per 1,000 inferences, per training run (and GPU-hour) and per 1M tokens.

* **Inference**: a model's SageMaker hosting line items (its endpoints, amortized) over its ``Invocations``, per
  1,000; a configured custom denominator gives one more row per model in its own unit.
* **Training**: a model's training jobs: each job's cost is its line items by resource id when the bill has them,
  else billable seconds x instance count x the on-demand price per hour (``cost_source`` says which); per run and per
  GPU-hour (GPUs per instance from ``GPUS``; ``None`` for a type not listed, never guessed).
* **Tokens**: Bedrock token line items per model and application inference profile, each token kind priced on its
  own (``parts``), per 1M tokens; ``reconcile`` checks their sum against every Bedrock line item.

A row whose denominator is zero or unknown has ``usd_per_unit`` None and a ``note`` saying why. Cost nobody owns
stays on its ``unowned`` row; shared cost is shown, never spread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from costwarden.core.owner import UNOWNED_TEAM
from costwarden.unitcost import lines as cur
from costwarden.unitcost.tokens import TOKEN_KINDS, TokenKind
from costwarden.unitcost.usage import INVOCATIONS

type Unit = Literal["1k_inferences", "training_run", "1m_tokens"] | str
type Period = Literal["day", "month"]
#: Reconciliation tolerance: the token parts must sum to the Bedrock bill within 1 %.
RECONCILE_SHARE = 0.01
#: GPUs (or accelerator chips) per SageMaker instance type: what a GPU-hour counts.
GPUS: dict[str, int] = {
    "ml.g4dn.xlarge": 1, "ml.g4dn.2xlarge": 1, "ml.g4dn.4xlarge": 1, "ml.g4dn.8xlarge": 1, "ml.g4dn.12xlarge": 4,
    "ml.g4dn.16xlarge": 1, "ml.g5.xlarge": 1, "ml.g5.2xlarge": 1, "ml.g5.4xlarge": 1, "ml.g5.8xlarge": 1,
    "ml.g5.12xlarge": 4, "ml.g5.16xlarge": 1, "ml.g5.24xlarge": 4, "ml.g5.48xlarge": 8, "ml.g6.xlarge": 1,
    "ml.g6.12xlarge": 4, "ml.g6.48xlarge": 8, "ml.p3.2xlarge": 1, "ml.p3.8xlarge": 4, "ml.p3.16xlarge": 8,
    "ml.p3dn.24xlarge": 8, "ml.p4d.24xlarge": 8, "ml.p4de.24xlarge": 8, "ml.p5.48xlarge": 8, "ml.p5e.48xlarge": 8,
    "ml.trn1.2xlarge": 1, "ml.trn1.32xlarge": 16, "ml.inf2.xlarge": 1, "ml.inf2.48xlarge": 12,
}  # fmt: skip


@dataclass
class UnitCost:
    """One model's (or application's) unit cost over one period (a day ``YYYY-MM-DD`` or a month ``YYYY-MM``)."""

    period: str
    model: str
    team: str
    unit: Unit
    quantity: float
    cost_usd: float | None
    usd_per_unit: float | None
    application: str = ""
    note: str = ""
    instance_types: tuple[str, ...] = ()
    parts: dict[str, dict[str, float | None]] = field(default_factory=dict)
    gpu_hours: float | None = None
    usd_per_gpu_hour: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The CLI's result shape (docs/cli.schema.json ``unit-costs``)."""
        data = asdict(self)
        data["instance_types"] = list(self.instance_types)
        data["cost_usd"], data["usd_per_unit"] = _round(self.cost_usd), _round(self.usd_per_unit)
        if self.unit != "1m_tokens":
            del data["parts"]
        if self.unit != "training_run":
            del data["gpu_hours"], data["usd_per_gpu_hour"]
        return data


def period_of(day: pd.Series, period: Period) -> pd.Series:
    return day if period == "day" else day.str.slice(0, 7)


def per(cost: float | None, quantity: float, scale: float) -> float | None:
    """Cost per ``scale`` units of ``quantity``; None without a quantity (never a division by zero)."""
    if cost is None or quantity <= 0:
        return None
    return cost / quantity * scale


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def _types(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


def inference(
    lines: pd.DataFrame, usage: pd.DataFrame, period: Period, custom_units: dict[str, str] | None = None
) -> list[UnitCost]:
    """USD per 1,000 inferences per model and period (and per custom unit where one is configured)."""
    host = cur.hosting(lines).assign(period=lambda f: period_of(f["date"], period))
    usage = usage.assign(period=period_of(usage["date"], period))
    counts = usage.groupby(["period", "model", "metric"])["value"].sum().to_dict()
    out: list[UnitCost] = []
    keys = ["period", "team", "model"]
    # Aggregated first, then read per group: slicing a million-row frame per group is what costs.
    costs = host.groupby(keys, sort=True, observed=True)["cost_usd"].sum()
    types_of: dict[tuple[str, str, str], list[str]] = {}
    for *key, instance in host[[*keys, "instance_type"]].drop_duplicates().itertuples(index=False):
        types_of.setdefault((key[0], key[1], key[2]), []).append(instance)
    days_of: dict[tuple[str, str, str], list[str]] = {}
    for *key, day in host[[*keys, "date"]].drop_duplicates().itertuples(index=False):
        days_of.setdefault((key[0], key[1], key[2]), []).append(day)
    read = set(zip(usage["date"], usage["model"], usage["metric"], strict=True))
    for (when, team, model), total in costs.items():
        cost = float(total)
        types = _types(types_of.get((when, team, model), []))
        days = days_of.get((when, team, model), [])
        units = [("1k_inferences", INVOCATIONS, 1000.0)]
        if custom_units and model in custom_units:
            unit = custom_units[model]
            units.append((unit, unit, 1000.0 if unit.startswith("1k_") else 1.0))
        for unit, metric, scale in units:
            # A day with cost and no denominator read would charge its cost to the other days' requests.
            unread = sum((day, model, metric) not in read for day in days)
            quantity = float(counts.get((when, model, metric), 0.0))
            if unread:
                note = f"{metric} not read" + (f" on {unread} of {len(days)} days" if len(days) > 1 else "")
            else:
                note = "" if quantity > 0 else f"no {metric} recorded"
            price = None if unread else per(cost, quantity, scale)
            out.append(
                UnitCost(str(when), str(model), str(team), unit, quantity, cost, price, note=note,
                         instance_types=types)
            )  # fmt: skip
    return out


@dataclass(frozen=True)
class TrainingRun:
    """One SageMaker training job as ``Search`` returns it (``adapters.sagemaker_training``), reduced."""

    name: str
    arn: str
    day: str
    model: str
    team: str
    instance_type: str
    instance_count: int
    billable_seconds: float


def training_runs(jobs: Iterable[dict[str, Any]], *, team_key: str, model_key: str) -> list[TrainingRun]:
    """The runs of the raw ``TrainingJob`` objects; a job without billable seconds (still running, failed before
    it started) is left out: it has no run to price yet."""
    out = []
    for job in jobs:
        seconds = job.get("BillableTimeInSeconds", job.get("TrainingTimeInSeconds"))
        if not isinstance(seconds, int | float) or seconds <= 0 or not job.get("TrainingJobName"):
            continue
        tags = {t.get("Key"): t.get("Value") for t in job.get("Tags", []) if isinstance(t, dict)}
        config = job.get("ResourceConfig") or {}
        created: Any = job.get("TrainingStartTime") or job.get("CreationTime") or ""
        day = created.date().isoformat() if isinstance(created, datetime) else str(created)[:10]
        name = str(job["TrainingJobName"])
        out.append(
            TrainingRun(
                name, str(job.get("TrainingJobArn", name)), day, str(tags.get(model_key) or name),
                str(tags.get(team_key) or "").strip() or UNOWNED_TEAM, str(config.get("InstanceType", "")),
                int(config.get("InstanceCount", 1) or 1), float(seconds),
            )
        )  # fmt: skip
    return out


def training(
    lines: pd.DataFrame,
    runs: Sequence[TrainingRun],
    price_per_hour: Callable[[str], float | None],
    period: Period,
) -> list[UnitCost]:
    """USD per training run and per GPU-hour per model and period."""
    billed = cur.training(lines).groupby("resource_id", observed=True)["cost_usd"].sum().to_dict()
    billed |= cur.training(lines).groupby("resource", observed=True)["cost_usd"].sum().to_dict()
    groups: dict[tuple[str, str, str], list[TrainingRun]] = {}
    for run in runs:
        when = run.day if period == "day" else run.day[:7]
        groups.setdefault((when, run.team, run.model), []).append(run)
    out = []
    for (when, team, model), group in sorted(groups.items()):
        costs: list[float | None] = []
        notes: list[str] = []
        gpu_hours: float | None = 0.0
        for run in group:
            if run.arn in billed or run.name in billed:
                costs.append(float(billed.get(run.arn, billed.get(run.name, 0.0))))
            else:
                price = price_per_hour(run.instance_type)
                costs.append(None if price is None else run.billable_seconds / 3600 * run.instance_count * price)
                notes.append(f"{run.name}: " + ("billable seconds x price" if price else "no price"))
            gpus = GPUS.get(run.instance_type)
            gpu_hours = (
                None
                if gpus is None or gpu_hours is None
                else gpu_hours + run.billable_seconds / 3600 * gpus * run.instance_count
            )
        known = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
        out.append(
            UnitCost(when, model, team, "training_run", float(len(group)), known, per(known, len(group), 1.0),
                     note="; ".join(notes), instance_types=_types(r.instance_type for r in group),
                     gpu_hours=gpu_hours, usd_per_gpu_hour=per(known, gpu_hours or 0.0, 1.0))
        )  # fmt: skip
    return out


def tokens(lines: pd.DataFrame, period: Period, kinds: Sequence[TokenKind] = TOKEN_KINDS) -> list[UnitCost]:
    """USD per 1M tokens per Bedrock model and application inference profile, each token kind its own part."""
    token_lines = cur.bedrock(lines)
    token_lines = token_lines[token_lines["kind"].isin(list(kinds))].assign(
        period=lambda f: period_of(f["date"], period)
    )
    out = []
    keys = ["period", "team", "model", "application"]
    sums = token_lines.groupby([*keys, "kind"], sort=True, observed=True)[["quantity", "cost_usd"]].sum()
    groups: dict[tuple[str, ...], dict[str, tuple[float, float]]] = {}
    for (*key, kind), count, spent in zip(sums.index, sums["quantity"], sums["cost_usd"], strict=True):
        groups.setdefault(tuple(key), {})[str(kind)] = (float(count), float(spent))
    for (when, team, model, application), by_kind in groups.items():
        parts: dict[str, dict[str, float | None]] = {
            kind: {"tokens": count, "cost_usd": round(spent, 6), "usd_per_1m": _round(per(spent, count, 1e6))}
            for kind in TOKEN_KINDS
            if kind in by_kind
            for count, spent in [by_kind[kind]]
        }
        quantity, cost = sum(c for c, _ in by_kind.values()), sum(s for _, s in by_kind.values())
        out.append(
            UnitCost(str(when), str(model), str(team), "1m_tokens", quantity, cost, per(cost, quantity, 1e6),
                     application=str(application), parts=parts,
                     note="" if application else "called without an application inference profile")
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class Reconciliation:
    """The token parts against the bill: ``bill_usd`` is every Bedrock line item, ``tokens_usd`` the parts' sum,
    ``other_usd`` Bedrock lines that are not tokens (provisioned throughput, guardrails, images), shown beside them.
    A token line of a kind left out (or not recognised) is in neither: the gap."""

    bill_usd: float
    tokens_usd: float
    other_usd: float

    @property
    def gap_usd(self) -> float:
        return self.bill_usd - self.tokens_usd - self.other_usd

    @property
    def ok(self) -> bool:
        return abs(self.gap_usd) <= RECONCILE_SHARE * abs(self.bill_usd) + 0.005

    def to_dict(self) -> dict[str, Any]:
        return {
            "bill_usd": round(self.bill_usd, 2),
            "tokens_usd": round(self.tokens_usd, 2),
            "other_usd": round(self.other_usd, 2),
            "gap_usd": round(self.gap_usd, 2) + 0.0,  # never -0.0
            "reconciled": self.ok,
        }


def reconcile(results: Iterable[UnitCost], lines: pd.DataFrame) -> Reconciliation:
    """Do the token parts (of every model and application) sum to the Bedrock line items' cost?"""
    rows = cur.bedrock(lines)
    parts = [p["cost_usd"] or 0.0 for r in results if r.unit == "1m_tokens" for p in r.parts.values()]
    # Not tokens: lines whose usage type names no token at all. One that names tokens of a kind not classified (a
    # new usage type) is neither, so it opens a gap instead of hiding among "other".
    other = float(
        rows.loc[rows["kind"].isna() & ~rows["usage_type"].str.lower().str.contains("token"), "cost_usd"].sum()
    )
    return Reconciliation(float(rows["cost_usd"].sum()), float(sum(parts)), other)
