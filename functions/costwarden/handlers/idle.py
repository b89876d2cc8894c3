"""Idle finder Lambda (daily schedule): thin — settings, wiring, one call, a JSON-able summary.

Findings go to the owning teams as one ``idle`` alert per team per week (and the account total to the operator
team); the digest reads the latest scan's summary from the state table. With ``idle.action: expire``, marks are
written only when ``reaper.dry_run`` is off — the same switch that lets the reaper act on them.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger, metrics, route_logs, run_state, scheduled
from costwarden.idle.run import run_idle
from costwarden.reaper.execute import write_audit
from costwarden.services.idle import aws_ports
from costwarden.services.k8s_athena import k8s_source, k8s_summary
from costwarden.services.reaper import default_clients, regions_for, sns_publisher
from costwarden.settings import load_settings

route_logs("costwarden.idle")


@scheduled
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    state = run_state("prices are not cached and alerts are not de-duplicated")
    ports = aws_ports(default_clients, state, settings)
    k8s = k8s_source(settings)  # None with k8s_guard off: no Athena read for EKS facts
    run = run_idle(
        settings,
        regions=regions_for(settings),
        ports=ports,
        store=state,
        audit=functools.partial(write_audit, state, settings),
        publish_fn=sns_publisher(),
        apply=not settings.reaper.dry_run,
        k8s=k8s,
    )
    requests = dict(getattr(ports.metrics, "requests", {}))
    summary = run.summary(requests) | k8s_summary(k8s)
    metrics.add_metric(name="IdleFindings", unit="Count", value=summary["findings"])
    metrics.add_metric(name="IdleWasteUsdPerMonth", unit="None", value=summary["waste_usd_per_month"])
    metrics.add_metric(name="IdleMetricRequests", unit="Count", value=summary["metric_requests"])
    logger.info("idle run finished", **summary)
    return summary
