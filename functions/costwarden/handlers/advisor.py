"""Savings advisor Lambdas: the weekly advisor run (``handler``) and the monthly report on the 1st
(``report_handler``). Thin: settings, wiring, one call, a JSON-able summary."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.report_store import MAX_LINK_SECONDS, ReportStore
from costwarden.adapters.state import STATE_TABLE_ENV_VAR, DynamoStateStore
from costwarden.advisor.report import parse_month
from costwarden.handlers.cost_monitor import run_time
from costwarden.handlers.observability import logger, metrics, route_logs, scheduled
from costwarden.models.alert import AlertEvent
from costwarden.services import topic
from costwarden.services.advisor.runner import run_advisor_on_aws, run_monthly_report
from costwarden.services.k8s_athena import k8s_source, k8s_summary
from costwarden.services.reaper import regions_for
from costwarden.settings import load_settings

REPORT_BUCKET_ENV_VAR = "REPORT_BUCKET_NAME"

route_logs("costwarden.advisor")


def _publish(alert: AlertEvent) -> str:
    return topic.publish(alert, os.environ["ALERT_TOPIC_ARN"])


@scheduled
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    now = run_time(event)
    regions = regions_for(settings)
    result = run_advisor_on_aws(
        settings,
        regions=regions,
        state=DynamoStateStore(os.environ[STATE_TABLE_ENV_VAR]),
        publish=_publish,
        now=now,
    )
    summary = result.to_dict(now.date())
    metrics.add_metric(name="AdvisorCostExplorerRequests", unit="Count", value=result.ce_requests)
    metrics.add_metric(name="SavingsOnTheTableUsd", unit="None", value=summary["savings_on_the_table_usd_month"])
    logger.info(
        "advisor run finished", extra={k: summary[k] for k in ("savings_on_the_table_usd_month", "ce_requests")}
    )
    return summary


def event_month(event: dict[str, Any]) -> str | None:
    """A manual re-run names its month (``{"month": "2026-10"}``); the schedule's event does not (last month).

    A malformed month fails the invocation with a message naming the event key, before any AWS request.
    """
    if "month" not in event:
        return None
    month = event["month"]
    if not isinstance(month, str):
        raise ValueError(f"event key 'month': expected a string YYYY-MM, got {type(month).__name__}")
    try:
        return parse_month(month)
    except ValueError as error:
        raise ValueError(f"event key 'month': {error}") from None


@scheduled
def report_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    now = run_time(event)
    month = event_month(event)
    store = ReportStore(os.environ[REPORT_BUCKET_ENV_VAR])

    def link(key: str) -> tuple[str, datetime | None]:
        # Signed with the function's session credentials, the link dies with that session (hours), whatever its
        # 7-day ExpiresIn says: no "valid until" is claimed (the message says how to get the report again).
        return store.link(key, MAX_LINK_SECONDS), None

    k8s = k8s_source(settings)  # None with k8s_guard off: no Athena read for EKS facts
    result = run_monthly_report(
        settings,
        ce=CostExplorer(),
        state=DynamoStateStore(os.environ[STATE_TABLE_ENV_VAR]),
        now=now,
        month=month,
        put=store.put,
        link=link,
        publish=_publish,
        k8s=k8s,
    )
    metrics.add_metric(name="ReportCostExplorerRequests", unit="Count", value=result.report.ce_requests)
    summary = {
        "month": result.report.month,
        "key": result.key,
        "teams": len(result.report.teams),
        "ce_requests": result.report.ce_requests,
        "alerts": len(result.events),
        "publish_errors": result.publish_errors,
        **k8s_summary(k8s),
    }
    logger.info("monthly report written", extra=summary)
    return summary
