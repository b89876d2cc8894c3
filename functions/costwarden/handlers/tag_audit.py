"""Weekly tag audit (EventBridge schedule): scan tags, measure untagged spend, publish one digest per team."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger, metrics, tracer
from costwarden.services.tag_audit import publish_report, run_audit
from costwarden.settings import load_settings


def _event_time(event: dict[str, Any]) -> datetime:
    """The schedule's ``time`` (so a retried invocation audits the same week), else now."""
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    report = publish_report(run_audit(settings, now=_event_time(event)), os.environ["ALERT_TOPIC_ARN"])
    summary = report.summary()
    metrics.add_metric(name="TagViolations", unit=MetricUnit.Count, value=summary["resources_with_violations"])
    if summary["untagged_share"] is not None:
        metrics.add_metric(name="UntaggedSpendShare", unit=MetricUnit.Percent, value=100 * summary["untagged_share"])
    logger.info("tag audit done", extra=summary)
    if report.publish_errors:
        # Raise so Lambda retries and, failing that, the dead-letter queue keeps the run for an operator.
        raise RuntimeError(f"could not publish {len(report.publish_errors)} digest(s): {report.publish_errors}")
    return summary
