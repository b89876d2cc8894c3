"""The daily unit-cost Lambda (``unitcost.enabled``): thin — settings, ports, one run, a JSON-able summary.

The window's SageMaker and Bedrock line items come from the Athena path (``cost_source: athena``), the endpoints'
``Invocations`` from CloudWatch; ``services.unitcost.run_daily`` judges yesterday (regression alerts through the
cost monitor's episodes and ``core.publish``) and stores the month's record the monthly report reads and yesterday's
moves the digest reads. A failed read (the bill, a denominator, the state) fails the invocation after what could be
done is done, so an operator sees it (the function's error alarm): a failed read is never "no unit costs".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters import aws
from costwarden.adapters.athena import Athena
from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.handlers.observability import logger, metrics, run_state, scheduled
from costwarden.services.reaper import sns_publisher
from costwarden.services.unitcost import run_daily
from costwarden.settings import load_settings


def _event_time(event: Any) -> datetime:
    """The schedule's ``time`` (a retried invocation judges the same day), else now."""
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


@scheduled
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    state = run_state("unit-cost episodes are not kept and the report and digest sections stay empty")
    config = settings.organization.athena
    athena = Athena(
        config.workgroup, config.database, poll_seconds=config.poll_seconds, max_wait_seconds=config.max_wait_seconds
    )
    publish = sns_publisher()
    if publish is None:
        raise RuntimeError("unit costs: no alert topic (ALERT_TOPIC_ARN): regressions could not be sent")
    daily = run_daily(
        settings,
        athena=athena,
        metrics=CloudWatchMetrics(aws.client),
        store=state,
        publish=publish,
        now=_event_time(event),
        region=aws.default_region(),
    )
    summary = daily.summary()
    metrics.add_metric(name="UnitCostRegressions", unit="Count", value=summary["regressions"])
    logger.info("unit costs finished", **summary)
    if summary["errors"]:
        raise RuntimeError(f"unit costs: {len(summary['errors'])} error(s): {summary['errors'][:5]}")
    return summary
