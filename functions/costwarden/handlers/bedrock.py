"""The Bedrock spend guard Lambda (hourly schedule): thin — settings, wiring, one run, a JSON-able summary.

Today's tokens per application inference profile are priced and judged per team; alerts go once per team, day and
severity; ``bedrock.hard_limit: auto`` teams that are critical get the deny. From 20:00 UTC the run also
reconciles yesterday's estimate with the bill. A failed read (metrics, tags, the bill) fails the run after it has
published what it could, so Lambda retries and an operator sees it: a failed read is never a clean verdict.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.handlers.observability import logger, metrics, run_state, scheduled
from costwarden.services.bedrock import reconcile_on_aws, run_on_aws
from costwarden.services.reaper import default_clients, sns_publisher
from costwarden.settings import load_settings


def _event_time(event: dict[str, Any]) -> datetime:
    """The schedule's ``time`` (a retried invocation judges the same hour), else now."""
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)


@scheduled
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    state = run_state("prices and tags are not cached, alerts are not de-duplicated, no baseline is kept")
    now = _event_time(event)
    region = os.environ.get("AWS_REGION", "us-east-1")
    run, reads = run_on_aws(
        settings, clients=default_clients, state=state, publish=sns_publisher(), now=now, region=region
    )
    summary = {**run.summary(), "requests": reads.requests}
    try:
        summary["reconciliation"] = reconcile_on_aws(settings, ce=CostExplorer(), state=state, now=now)
    except Exception as error:  # the guard's hour stands; the reconciliation is retried next run
        summary["errors"] = [*summary["errors"], f"reconciliation failed: {type(error).__name__}: {error}"]
    metrics.add_metric(name="BedrockAlerts", unit="Count", value=summary["alerts"])
    logger.info("bedrock guard finished", **summary)
    if summary["errors"]:
        raise RuntimeError(f"bedrock guard: {len(summary['errors'])} error(s): {summary['errors'][:5]}")
    return summary
