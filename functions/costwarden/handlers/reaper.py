"""Reaper Lambda (hourly schedule): thin — settings, wiring, one call, a JSON-able summary.

Dry run unless ``settings.reaper.dry_run`` is false. Decisions go to the state table (``audit#<date>``) and to
the structured logs; events go to the alert topic.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger, metrics
from costwarden.reaper.execute import run_reaper
from costwarden.reaper.limit_run import run_limits
from costwarden.reaper.limits import limited_teams
from costwarden.services.reaper import default_clients, regions_for, sns_publisher, state_store
from costwarden.settings import load_settings

# The reaper's logic logs through the standard "costwarden.reaper" logger (it has no Powertools dependency);
# here it gets Powertools' JSON handler, so every decision is one structured log line.
_reaper_log = logging.getLogger("costwarden.reaper")
_reaper_log.setLevel(logger.log_level)
_reaper_log.handlers = list(logger.handlers)
_reaper_log.propagate = False


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    state, note = state_store(probe=False)
    if note:
        logger.warning("no state table: warnings are not de-duplicated and the audit is only logged", note=note)
    result = run_reaper(
        settings,
        regions=regions_for(settings),
        clients=default_clients,
        state=state,
        publish_fn=sns_publisher(),
    )
    counts = result.counts()
    for status, count in counts.items():
        metrics.add_metric(name=f"Reaper{status.capitalize()}", unit="Count", value=count)
    summary = result.summary()
    if limited_teams(settings):  # issue 15: development limits ride on the hourly run, through the same guard path
        limit_result = run_limits(
            settings, regions=regions_for(settings), clients=default_clients, state=state, publish_fn=sns_publisher()
        )
        summary["limits"] = limit_result.summary()
    logger.info("reaper run finished", **summary)
    return summary
