"""Cost monitor Lambda: daily cost by team from Cost Explorer -> anomalies, budgets, forecasts -> alert topic."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters import aws
from costwarden.adapters.state import STATE_TABLE_ENV_VAR, DynamoStateStore
from costwarden.cost import monitor
from costwarden.handlers.observability import METRICS_NAMESPACE, logger, metrics, tracer
from costwarden.models.alert import AlertEvent
from costwarden.services import topic
from costwarden.services.athena_cost import AthenaCostSource, cost_source
from costwarden.services.k8s_athena import k8s_source
from costwarden.settings import load_settings


def run_time(event: dict[str, Any]) -> datetime:
    """The run's instant: the scheduled event's ``time`` (so a retried invocation judges the same day and its digest
    reads the same 24 h of reaper activity), else now."""
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str) and raw:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    return datetime.now(UTC)


def run_date(event: dict[str, Any]) -> date:
    """The run's UTC date (see ``run_time``)."""
    return run_time(event).date()


def _emit(name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
    if dimensions:
        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=METRICS_NAMESPACE) as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)
    else:
        metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    topic_arn = os.environ["ALERT_TOPIC_ARN"]
    store = DynamoStateStore(os.environ[STATE_TABLE_ENV_VAR])

    def publish(alert: AlertEvent) -> str:
        return topic.publish(alert, topic_arn)

    at = run_time(event)
    source = cost_source(settings)
    k8s = k8s_source(settings)  # None with k8s_guard off: no Athena read for EKS facts
    result = monitor.run(
        settings,
        ce=source,
        store=store,
        publish=publish,
        today=at.date(),
        emit=_emit,
        now=at,
        clients=aws.client,
        k8s=k8s,
    )
    summary = result.summary
    if isinstance(source, AthenaCostSource) and source.account_teams is not None:
        # Untagged spend attributed to the account's team is labelled so, never shown as the team's own tagging.
        summary["account_default_usd"] = {t: round(v, 2) for t, v in sorted(source.account_default.items())}
        summary["attribution_note"] = source.attribution_note
    logger.info(
        "cost monitor run",
        extra={k: summary[k] for k in ("today", "ce_requests", "pulled", "cached_days", "teams", "alerts")},
    )
    return summary
