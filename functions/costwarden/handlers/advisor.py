"""Savings advisor Lambdas: the weekly advisor run (``handler``) and the monthly report on the 1st
(``report_handler``). Thin: settings, wiring, one call, a JSON-able summary."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters import sns
from costwarden.adapters.commitments import CommitmentsReader
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.report_store import MAX_LINK_SECONDS, ReportStore
from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.state import STATE_TABLE_ENV_VAR, DynamoStateStore
from costwarden.handlers.cost_monitor import run_time
from costwarden.handlers.observability import logger, metrics
from costwarden.models.alert import AlertEvent
from costwarden.services.advisor.runner import run_advisor, run_monthly_report
from costwarden.services.reaper import regions_for
from costwarden.settings import load_settings

REPORT_BUCKET_ENV_VAR = "REPORT_BUCKET_NAME"

_advisor_log = logging.getLogger("costwarden.advisor")
_advisor_log.setLevel(logger.log_level)
_advisor_log.handlers = list(logger.handlers)
_advisor_log.propagate = False


def _publish(alert: AlertEvent) -> str:
    return sns.publish(alert, os.environ["ALERT_TOPIC_ARN"])


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    now = run_time(event)
    regions = regions_for(settings)
    ce = CostExplorer()
    result = run_advisor(
        settings,
        regions=regions,
        reader_factory=S3Reader,
        ce=ce,
        commitments=CommitmentsReader(ce),
        spot=SpotPrices(regions[0]),
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


@metrics.log_metrics
@logger.inject_lambda_context
def report_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    now = run_time(event)
    store = ReportStore(os.environ[REPORT_BUCKET_ENV_VAR])

    def link(key: str) -> tuple[str, datetime | None]:
        # Signed with the function's session credentials, the link dies with that session (hours), whatever its
        # 7-day ExpiresIn says: no "valid until" is claimed (the message says how to get the report again).
        return store.link(key, MAX_LINK_SECONDS), None

    ce = CostExplorer()
    result = run_monthly_report(
        settings,
        ce=ce,
        state=DynamoStateStore(os.environ[STATE_TABLE_ENV_VAR]),
        now=now,
        month=event.get("month") if isinstance(event.get("month"), str) else None,
        put=store.put,
        link=link,
        publish=_publish,
    )
    metrics.add_metric(name="ReportCostExplorerRequests", unit="Count", value=result.report.ce_requests)
    summary = {
        "month": result.report.month,
        "key": result.key,
        "teams": len(result.report.teams),
        "ce_requests": result.report.ce_requests,
        "alerts": len(result.events),
        "publish_errors": result.publish_errors,
    }
    logger.info("monthly report written", extra=summary)
    return summary
