"""Burn guard Lambda: CloudTrail API-call events (through an SQS queue that batches a burst) priced, rated and
judged within minutes of the launch. Thin: settings, wiring, one call (``services.burn.evaluate``), a summary.

It takes an SQS batch (``Records`` whose bodies are EventBridge events: how the stack delivers them) or one
EventBridge event as it is (``costwarden run burn --event events/burn/run_instances_p4d.json``). A record whose
body is not an event is reported in the summary and dropped, never retried forever: it can never succeed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.burn.events import BurnInputError, read_event
from costwarden.handlers.observability import logger, metrics, route_logs, run_state, scheduled
from costwarden.services.burn import aws_ports, evaluate
from costwarden.services.reaper import sns_publisher
from costwarden.settings import load_settings

route_logs("costwarden.burn")


def events_of(event: Any) -> tuple[list[Any], list[str]]:
    """The EventBridge events in an invocation (an SQS batch or one event) and what could not be read, by where."""
    if not isinstance(event, dict) or "Records" not in event:
        return [event], []
    found, bad = [], []
    for index, record in enumerate(event.get("Records") or []):
        try:
            body = json.loads(record.get("body", "")) if isinstance(record, dict) else None
            read_event(body, index)
        except (ValueError, RecursionError, BurnInputError) as error:
            bad.append(f"record {index}: {str(error)[:300]}")
            continue
        found.append(body)
    return found, bad


@scheduled
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    state = run_state("launches are not remembered between invocations and alerts are not de-duplicated")
    events, malformed = events_of(event)
    ports, prices = aws_ports(settings, state, sns_publisher())
    result = evaluate(events, settings, ports, now=datetime.now(UTC))
    summary = {**result.totals(), "malformed": malformed, "price_requests": prices.requests, "errors": result.errors}
    summary["results"] = result.results()
    metrics.add_metric(name="BurnLaunches", unit="Count", value=len(result.launches))
    metrics.add_metric(name="BurnAlerts", unit="Count", value=len(result.alerts))
    logger.info("burn guard batch", **{k: v for k, v in summary.items() if k != "results"})
    return summary
