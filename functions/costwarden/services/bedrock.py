"""The Bedrock guard on AWS: profiles, token metrics and prices read, the run, the auto deny, the reconciliation.

The handler and the CLI share this wiring; tests pass moto / Stubber clients the same way (``clients``).
Requests: one ``ListInferenceProfiles`` per page, one ``ListTagsForResource`` per profile a day (cached), one
``ListMetrics`` page set for the model ids that have token metrics, one ``GetMetricData`` per 500 queries (a query
per model id and token kind), one ``GetProducts`` set per model a month (cached) and one ``GetCostAndUsage`` a
day for the reconciliation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from costwarden.adapters.bedrock import BedrockProfiles
from costwarden.adapters.bedrock_pricing import bedrock_products
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.bedrock import reconcile
from costwarden.bedrock.guard import Profile, model_of
from costwarden.bedrock.prices import PriceBook
from costwarden.bedrock.run import GuardRun, Inputs, day_start, estimate, estimated_teams, run_guard
from costwarden.bedrock.tokens import METRICS, TokenKind
from costwarden.core.owner import team_of
from costwarden.interact import bedrock_limit
from costwarden.models.idle_ports import MetricQuery
from costwarden.models.ports import Clients, Publisher, StateStore
from costwarden.settings import Settings

NAMESPACE = "AWS/Bedrock"
DIMENSION = "ModelId"
PERIOD_SECONDS = 3600
AUTO_BY = "auto (hourly Bedrock guard)"
#: Yesterday is reconciled by the first run from this hour (UTC) on: Cost Explorer lags the usage by up to a day.
RECONCILE_FROM_HOUR_UTC = 20


@dataclass
class Reads:
    """What one run asked AWS for, by operation (the closing summary shows it)."""

    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def read_usage(
    metrics: CloudWatchMetrics, region: str, model_ids: Sequence[str], start: datetime, end: datetime
) -> tuple[dict[tuple[str, TokenKind], float], list[str]]:
    """Tokens per (``ModelId``, kind) in ``[start, end)``: one query per model id and kind, 500 to a request."""
    queries = [
        (model_id, kind, MetricQuery(NAMESPACE, name, ((DIMENSION, model_id),), "Sum", PERIOD_SECONDS))
        for model_id in sorted(set(model_ids))
        for kind, name in METRICS.items()
    ]
    batch = metrics.fetch(region, [q for _, _, q in queries], start, end)
    usage: dict[tuple[str, TokenKind], float] = {}
    for index, (model_id, kind, _query) in enumerate(queries):
        total = sum(value for _stamp, value in batch.points.get(index, []))
        if total:
            usage[(model_id, kind)] = total
    return usage, list(batch.errors)


def profiles_of(settings: Settings, records: Sequence[Any], region: str) -> list[Profile]:
    """The listed profiles with their team (the one owner rule on their tags) and the model they serve."""
    return [Profile(r.arn, team_of(r.tags, settings.tags), model_of(r.model_arns), region, r.name) for r in records]


def run_on_aws(
    settings: Settings,
    *,
    clients: Clients,
    state: StateStore,
    publish: Publisher | None,
    now: datetime,
    region: str,
) -> tuple[GuardRun, Reads]:
    """One hourly run in ``region`` (module docstring); the auto deny acts with ``clients`` (the function's role)."""
    reads = Reads()
    lister = BedrockProfiles(clients, state)
    profiles = profiles_of(settings, lister.list(region, now), region)
    metrics = CloudWatchMetrics(clients)
    seen = metrics.dimensions(region, NAMESPACE, METRICS[TokenKind.INPUT])
    model_ids = {p.arn for p in profiles} | {v for dims in seen for k, v in dims if k == DIMENSION}
    usage, metric_errors = read_usage(metrics, region, sorted(model_ids), day_start(now), now)
    book = PriceBook(settings.bedrock.price_names, partial(bedrock_products, clients), state)

    def deny(team: str, arns: Sequence[str], at: datetime) -> str:
        status, reply, _record = bedrock_limit.Denier(settings, state, clients, AUTO_BY, at).enforce(team, arns)
        return f"{status}: {reply}"

    run = run_guard(
        settings, Inputs(profiles, usage, book.prices, region), store=state, publish=publish, now=now, deny=deny
    )
    run.errors[:0] = [*lister.errors, *metric_errors]
    reads.requests = {**lister.requests, **dict(metrics.requests), "GetProducts": book.requests}
    return run, reads


def reconcile_on_aws(settings: Settings, *, ce: CostExplorer, state: StateStore, now: datetime) -> dict[str, Any]:
    """Yesterday's estimate beside yesterday's bill, written under ``reconcile.RECONCILED_PK`` / day, once a day
    from ``RECONCILE_FROM_HOUR_UTC`` (a day already reconciled is left: one Cost Explorer request set a day;
    ``bill_estimated`` says Cost Explorer still marks the day's figures estimated)."""
    day = (now - timedelta(days=1)).date()
    if now.hour < RECONCILE_FROM_HOUR_UTC:
        return {"day": day.isoformat(), "status": f"waits for {RECONCILE_FROM_HOUR_UTC}:00 UTC (the bill lags)"}
    existing = state.get(reconcile.RECONCILED_PK, day.isoformat())
    if existing:
        return {"day": day.isoformat(), "status": "already reconciled"}
    pages = ce.get_cost_and_usage(
        day,
        day + timedelta(days=1),
        metric="UnblendedCost",
        group_by=[{"Type": "TAG", "Key": settings.tags.team_key}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        filter_={"Dimensions": {"Key": "SERVICE", "Values": list(settings.bedrock.bill_services)}},
    )
    bill = reconcile.billed(pages, team_key=settings.tags.team_key, metric="UnblendedCost").get(day.isoformat(), {})
    teams = sorted(set(bill) | set(estimated_teams(state, day)))
    estimates = {team: estimate(state, team, day) for team in teams}
    rows = reconcile.reconcile(estimates, bill)
    still_estimated = any(r.get("Estimated") for page in pages for r in page.get("ResultsByTime", []) or [])
    record = {"teams": [r.to_dict() for r in rows], "at": now.isoformat(), "bill_estimated": still_estimated}
    state.put(reconcile.RECONCILED_PK, day.isoformat(), record, ttl_days=60)
    return {"day": day.isoformat(), "status": "reconciled", "teams": len(rows), "requests": ce.requests}
