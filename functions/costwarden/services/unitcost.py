"""Unit costs on AWS: the bill's line items, the denominators read from CloudWatch, the training jobs, and the
judgement through the cost monitor's detector, episodes and publish path; zero-denominator models as idle findings.

The pieces stay where they belong: ``costwarden.unitcost`` is pure (line items, denominators, unit costs,
regressions, alerts), the detector is ``cost.detect`` and the idle finding is ``idle.model.Finding`` (capabilities
do not import each other; this service composes them). CloudWatch reads are one ``ListMetrics`` pass (the
endpoints' variants) and batched ``GetMetricData`` calls (500 queries each): requests grow with ceil(queries / 500)
and with pages, never with endpoints or models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from costwarden.adapters.athena import Athena, AthenaQueryError
from costwarden.adapters.aws import AWS_ERRORS
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.core.arn import BadArn, parse_arn
from costwarden.core.keys import UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK, UNITCOST_MONTH_PK
from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.cost.detect import DetectParams, detect
from costwarden.idle.model import Finding, Kind
from costwarden.models.digest import UnitCostMove
from costwarden.models.idle_ports import MetricReader, PriceBook
from costwarden.models.ports import Publisher, StateStore
from costwarden.settings import Settings, UnitCostSettings
from costwarden.unitcost import athena_sql, compute, regressions, sections
from costwarden.unitcost import lines as cur
from costwarden.unitcost import usage as denominators
from costwarden.unitcost.alerts import RegressionRun, raise_regressions

#: ListMetrics lists the metrics with data in the last two weeks: an endpoint it does not list had no invocations
#: on any of those days (read as zero there; older days stay unknown).
LIST_METRICS_DAYS = 14
#: Average days in a month (365 / 12): a lookback's cost as a monthly rate.
DAYS_PER_MONTH = 365 / 12


def detector(settings: UnitCostSettings) -> regressions.Detector:
    """The cost monitor's detector with the unit-cost thresholds (no USD floor: the spend floor is applied to the
    day's cost, ``min_daily_cost_usd``, not to a unit cost of cents)."""
    params = DetectParams(
        baseline_days=settings.baseline_days,
        min_history_days=settings.min_history_days,
        warn_ratio=settings.warn_ratio,
        critical_ratio=settings.critical_ratio,
        min_impact_usd=0.0,
    )
    return functools.partial(_detect, params=params)


def _detect(frame: pd.DataFrame, keys: Sequence[str], *, params: DetectParams) -> pd.DataFrame:
    return detect(frame, keys, params)


def endpoint_models(lines: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """``{endpoint name: (model, region)}`` of the endpoints the bill's hosting lines name."""
    out: dict[str, tuple[str, str]] = {}
    for arn, model in zip(cur.hosting(lines)["resource_id"], cur.hosting(lines)["model"], strict=True):
        try:
            parsed = parse_arn(arn)
        except BadArn:
            continue  # a line without an endpoint ARN has no metric to read
        if parsed.resource.startswith("endpoint/"):
            out[parsed.resource.split("/", 1)[1]] = (str(model), parsed.region)
    return out


def read_denominators(
    metrics: MetricReader,
    lines: pd.DataFrame,
    custom: UnitCostSettings,
    *,
    start: date,
    end: date,
    default_region: str,
    today: date | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Daily ``Invocations`` of every endpoint the bill names (per variant, summed per model) and each custom
    denominator, ``[start, end)``; errors name what could not be read (those days stay unknown, never zero). An
    endpoint ``ListMetrics`` does not list had no invocations in the two weeks before ``today`` (default: now):
    zero on those days, unknown before them."""
    by_region: dict[str, dict[str, str]] = {}
    for endpoint, (model, region) in endpoint_models(lines).items():
        by_region.setdefault(region, {})[endpoint] = model
    if custom.custom_denominators:
        by_region.setdefault(default_region, {})
    frames, errors = [], []
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    finish = datetime(end.year, end.month, end.day, tzinfo=UTC)
    for region, endpoints in sorted(by_region.items()):
        try:
            listed = metrics.dimensions(region, "AWS/SageMaker", denominators.INVOCATIONS)
        except Exception as error:  # every endpoint of the region stays unknown; the others go on
            errors.append(f"{region}: ListMetrics AWS/SageMaker Invocations failed: {type(error).__name__}: {error}")
            continue
        variants: dict[str, list[str]] = {}
        for dims in listed:
            named = dict(dims)
            if named.get("EndpointName") in endpoints and "VariantName" in named and len(named) == 2:
                variants.setdefault(named["EndpointName"], []).append(named["VariantName"])
        series = denominators.endpoint_series({e: (endpoints[e], v) for e, v in variants.items()})
        if region == default_region:
            series += denominators.custom_series(custom.custom_denominators)
        batch = metrics.fetch(region, [s.query for s in series], begin, finish)
        errors += batch.errors
        frames.append(denominators.from_batch(series, batch, begin, finish))
        # Unlisted: no data point in ListMetrics' two weeks before today, so zero on those days of the window.
        listed_from = max(start, (today or datetime.now(UTC).date()) - timedelta(days=LIST_METRICS_DAYS))
        unlisted = sorted({endpoints[e] for e in endpoints if e not in variants} - {s.model for s in series})
        quiet_days = denominators.days_between(listed_from, end)
        zeros = [(d, m, denominators.INVOCATIONS, 0.0) for m in unlisted for d in quiet_days]
        frames.append(pd.DataFrame(zeros, columns=list(denominators.COLUMNS)))
    usage = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(denominators.COLUMNS))
    return usage, errors


def training_price(prices: PriceBook, region: str) -> Callable[[str], float | None]:
    """On-demand USD per hour of a SageMaker training instance type (the Price List; None: no price)."""

    def price(instance_type: str) -> float | None:
        return prices.on_demand_price("sagemaker-training", instance_type, region).usd

    return price


def runs_from_lines(lines: pd.DataFrame) -> list[compute.TrainingRun]:
    """Training runs as the bill alone shows them (no ``Search``): one per training-job resource, its instance-hours
    as billable seconds (the usage amount already counts every instance)."""
    out = []
    for (arn, model, team), rows in cur.training(lines).groupby(
        ["resource_id", "model", "team"], sort=True, observed=True
    ):
        types = sorted(set(rows["instance_type"]) - {""})
        hours = float(rows["quantity"].sum())
        out.append(
            compute.TrainingRun(cur.resource_name(str(arn)), str(arn), str(rows["date"].min()), str(model), str(team),
                                types[0] if types else "", 1, hours * 3600)
        )  # fmt: skip
    return out


@dataclass
class UnitCostReport:
    """One period's unit costs: every result, the Bedrock reconciliation, and what could not be read."""

    period: str
    results: list[compute.UnitCost]
    reconciliation: compute.Reconciliation
    errors: list[str] = field(default_factory=list)
    shared_usd: float = 0.0
    """Cost on the ``unowned`` rows (no team tag): shown as its own rows, never spread."""

    def totals(self) -> dict[str, Any]:
        by_unit: dict[str, int] = {}
        for r in self.results:
            by_unit[r.unit] = by_unit.get(r.unit, 0) + 1
        return {
            "period": self.period,
            "results_by_unit": by_unit,
            "unowned_cost_usd": round(self.shared_usd, 2),
            "bedrock": self.reconciliation.to_dict(),
        }


def unit_costs(
    settings: Settings,
    lines: pd.DataFrame,
    usage: pd.DataFrame,
    *,
    period: str,
    runs: Sequence[compute.TrainingRun] | None = None,
    price_per_hour: Callable[[str], float | None] | None = None,
    errors: Sequence[str] = (),
) -> UnitCostReport:
    """Unit costs of ``period`` (``YYYY-MM``, or a day ``YYYY-MM-DD``) from its line items and denominators."""
    kind: compute.Period = "day" if len(period) == 10 else "month"
    lines = lines[lines["date"].str.startswith(period)]
    usage = usage[usage["date"].str.startswith(period)]
    runs = runs_from_lines(lines) if runs is None else [r for r in runs if r.day.startswith(period)]
    results = compute.inference(lines, usage, kind, _custom_units(settings))
    results += compute.training(lines, runs, price_per_hour or (lambda _type: None), kind)
    tokens = compute.tokens(lines, kind)
    results += tokens
    shared = sum(r.cost_usd or 0.0 for r in results if r.team == UNOWNED_TEAM)
    return UnitCostReport(period, results, compute.reconcile(tokens, lines), list(errors), shared)


def daily_inference(settings: Settings, lines: pd.DataFrame, usage: pd.DataFrame) -> pd.DataFrame:
    """Every day's unit cost per model (inference and custom units): the series regressions are judged on."""
    return regressions.daily_frame(compute.inference(lines, usage, "day", _custom_units(settings)))


def _custom_units(settings: Settings) -> dict[str, str]:
    """Model -> the unit of its custom denominator."""
    return {model: spec.unit for model, spec in settings.unitcost.custom_denominators.items()}


def idle_findings(settings: Settings, lines: pd.DataFrame, usage: pd.DataFrame) -> list[Finding]:
    """A model whose denominator was zero on each of the lookback's days while its endpoints kept costing: one
    idle finding per endpoint (the idle finder reports, keeps and alerts it: ``run_idle(found_elsewhere=...)``)."""
    days = settings.unitcost.zero_lookback_days
    out = []
    for zero in regressions.zero_denominators(daily_inference(settings, lines, usage), lines, days):
        for arn, types, cost in zero.resources:
            try:
                region = parse_arn(arn).region
            except BadArn:
                continue
            name = cur.resource_name(arn)
            out.append(
                Finding(
                    arn=arn, id=name, type="sagemaker_endpoint", region=region, team=zero.team, kind=Kind.IDLE,
                    monthly_usd=cost / days * DAYS_PER_MONTH,
                    evidence=(
                        f"0 {regressions.unit_words(zero.unit).removeprefix('1k ')} in {days} days while the bill "
                        f"shows {usd(cost)} for it ({types or 'instances unknown'}; model {zero.model})"
                    ),
                    recommendation="delete the endpoint (or scale it to zero) if nothing will call it",
                    price_note="from the bill's line items (unit costs)",
                    commands=(f"aws sagemaker delete-endpoint --endpoint-name {name} --region {region}",),
                    judged_hours=days * 24.0,
                )
            )  # fmt: skip
    return out


#: Results kept in the month's record (the dearest first): a DynamoDB item holds 400 KB.
STORED_RESULTS = 200
RECORD_TTL_DAYS = 400


@dataclass
class UnitCostRun:
    """One daily unit-cost run: the month so far, the regressions alerted, the idle findings for the idle run."""

    report: UnitCostReport
    regressions: RegressionRun
    idle: list[Finding]
    moves: list[UnitCostMove]
    errors: list[str] = field(default_factory=list)


def run_unit_costs(
    settings: Settings,
    lines: pd.DataFrame,
    usage: pd.DataFrame,
    *,
    store: StateStore,
    publish: Publisher,
    now: datetime,
    runs: Sequence[compute.TrainingRun] | None = None,
    price_per_hour: Callable[[str], float | None] | None = None,
    errors: Sequence[str] = (),
) -> UnitCostRun:
    """Yesterday's judgement (regressions alerted through episodes, moves for the digest, zero denominators for
    the idle finder) and the month so far, remembered for the monthly report's section and the digest."""
    yesterday = (now.date() - timedelta(days=1)).isoformat()
    cfg = settings.unitcost
    daily = daily_inference(settings, lines, usage)
    found = raise_regressions(
        daily, cfg, detector(cfg), store=store, publish=publish, now=now, judge_from=yesterday[:8] + "01"
    )
    moves = sections.moved_yesterday(daily, yesterday, cfg.digest_move_share, cfg.baseline_days)
    report = unit_costs(
        settings, lines, usage, period=yesterday[:7], runs=runs, price_per_hour=price_per_hour, errors=errors
    )
    run = UnitCostRun(report, found, idle_findings(settings, lines, usage), moves, [*errors, *found.errors])
    try:
        remember(store, report=report, daily=daily, found=found.regressions, moves=moves, now=now)
    except Exception as error:  # the alerts went out; the report and digest say the section is missing
        run.errors.append(f"unit costs not stored: {type(error).__name__}: {error}")
    return run


def remember(
    store: StateStore,
    *,
    report: UnitCostReport,
    daily: pd.DataFrame,
    found: Sequence[regressions.Regression],
    moves: Sequence[UnitCostMove],
    now: datetime,
) -> None:
    """The month's record (results, daily unit costs per model, regressions) and yesterday's moves."""
    month = report.period[:7]
    results = sorted(report.results, key=lambda r: -(r.cost_usd or 0.0))[:STORED_RESULTS]
    kept = {f"{r.model}/{r.unit}" for r in results}
    days = denominators.days_between(date.fromisoformat(f"{month}-01"), min(now.date(), _month_end(month)))
    series: dict[str, list[float | None]] = {}
    in_month = daily[daily["date"].str.startswith(month)]
    for (model, unit), rows in in_month.groupby(["model", "unit"], sort=True):
        key = f"{model}/{unit}"
        if key in kept:
            values = dict(zip(rows["date"], rows["cost_usd"], strict=True))
            series[key] = [None if pd.isna(values.get(d)) else round(float(values[d]), 6) for d in days]
    record = {
        "as_of": now.isoformat(),
        "results": [r.to_dict() for r in results],
        "daily": series,
        "regressions": [r.to_dict() for r in found if r.date.startswith(month)][:100],
        "bedrock": report.reconciliation.to_dict(),
    }
    store.put(UNITCOST_MONTH_PK, month, record, ttl_days=RECORD_TTL_DAYS)
    digest = {"as_of": now.isoformat(), "moves": [m.model_dump(mode="json") for m in moves[:50]]}
    store.put(UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK, digest, ttl_days=7)


def _month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    return date(year + number // 12, number % 12 + 1, 1)


def report_section(store: StateStore, month: str) -> str:
    """The monthly report's unit-cost section from the month's record ('' when the unit-cost run left none)."""
    item = store.get(UNITCOST_MONTH_PK, month) or {}
    return sections.report_html(month, item.get("results", []), item.get("daily", {}), item.get("regressions", []))


def lines_of(settings: Settings, table: pd.DataFrame, source: str) -> pd.DataFrame:
    """A CUR 2.0 table (a file, or the Athena rows) as the normalised line items, with the configured tag keys."""
    return cur.normalise(table, team_key=settings.tags.team_key, model_key=settings.unitcost.model_key, source=source)


def window(settings: Settings, now: datetime) -> tuple[date, date]:
    """The days a daily run reads, ``[start, end)``: the month of yesterday and, before it, enough days for the
    detector's baseline and the zero-denominator lookback; up to today (the bill has no later day)."""
    yesterday = now.date() - timedelta(days=1)
    cfg = settings.unitcost
    back = yesterday - timedelta(days=max(cfg.baseline_days, cfg.zero_lookback_days) + 1)
    return min(yesterday.replace(day=1), back), now.date()


def athena_lines(settings: Settings, athena: Athena, start: date, end: date) -> tuple[pd.DataFrame, str]:
    """The window's SageMaker and Bedrock line items from the Athena path's table (one partition-pruned query) and
    its SQL. A failed query raises ``AthenaQueryError`` (or an AWS error): never an empty bill."""
    keys = (settings.tags.team_key, settings.unitcost.model_key)
    sql = athena_sql.render(settings.organization.athena.table, start, end, keys)
    rows = athena_sql.rows_as_cur(athena.query(sql), keys)
    columns = [*cur.REQUIRED, "line_item_product_code", "line_item_resource_id"]
    if not rows:  # a window without SageMaker or Bedrock usage: no line items (typed, so the day filters work)
        empty = lines_of(settings, pd.DataFrame(columns=columns), "Athena unit-cost line items")
        return empty.astype({"date": object}), sql
    return lines_of(settings, pd.DataFrame(rows), "Athena unit-cost line items"), sql


def check_athena(settings: Settings) -> None:
    """``unitcost.enabled`` reads the bill from the Athena path: refused, naming the keys, without it."""
    if settings.cost_source != "athena":
        raise cur.UnitCostError(
            f"unitcost.enabled needs cost_source: athena (the line items are read from the CUR 2.0 Data Export), "
            f"but cost_source is {settings.cost_source}"
        )
    if settings.organization.athena.export_format != "cur2":
        raise cur.UnitCostError(
            "unitcost.enabled needs organization.athena.export_format: cur2 (resource ids and usage types are CUR 2.0 "
            f"columns), but it is {settings.organization.athena.export_format}"
        )


#: What a failed read of the bill raises: the query failed or timed out, an AWS error, a row normalise refuses.
BILL_READ_ERRORS: tuple[type[Exception], ...] = (AthenaQueryError, cur.UnitCostError, *AWS_ERRORS)


@dataclass
class DailyRun:
    """What the scheduled run did: the run (None when the bill could not be read) and its reads."""

    run: UnitCostRun | None
    start: date
    end: date
    athena_requests: int = 0
    metric_requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The handler's JSON-able summary (the log line and the invocation's result)."""
        run = self.run
        return {
            "window": [self.start.isoformat(), self.end.isoformat()],
            "results": len(run.report.results) if run else 0,
            "regressions": len(run.regressions.regressions) if run else 0,
            "alerts": len(run.regressions.events) if run else 0,
            "idle_findings": len(run.idle) if run else 0,
            "moves": len(run.moves) if run else 0,
            "bedrock_reconciled": run.report.reconciliation.ok if run else None,
            "athena_requests": self.athena_requests,
            "metric_requests": dict(sorted(self.metric_requests.items())),
            "errors": self.errors,
        }


def run_daily(
    settings: Settings,
    *,
    athena: Athena,
    metrics: CloudWatchMetrics,
    store: StateStore,
    publish: Publisher,
    now: datetime,
    region: str,
) -> DailyRun:
    """The scheduled run: the window's line items from Athena, the endpoints' denominators from CloudWatch, then
    ``run_unit_costs``. A bill that cannot be read stops the run with its error (nothing judged, nothing stored:
    a failed read is never "no unit costs"); a denominator that cannot be read leaves its days unknown."""
    check_athena(settings)
    start, end = window(settings, now)
    daily = DailyRun(None, start, end)
    try:
        lines, _sql = athena_lines(settings, athena, start, end)
    except BILL_READ_ERRORS as error:
        daily.errors.append(f"line items not read from Athena: {type(error).__name__}: {error}")
        return daily
    finally:
        daily.athena_requests = int(athena.requests)
    usage, errors = read_denominators(
        metrics, lines, settings.unitcost, start=start, end=end, default_region=region, today=now.date()
    )
    daily.metric_requests = dict(metrics.requests)
    daily.run = run_unit_costs(settings, lines, usage, store=store, publish=publish, now=now, errors=errors)
    daily.errors += daily.run.errors
    return daily
