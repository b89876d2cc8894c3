"""Reaper Lambda (hourly schedule): thin — settings, wiring, one call, a JSON-able summary.

Dry run unless ``settings.reaper.dry_run`` is false. Decisions go to the state table (``audit#<date>``) and to
the structured logs; events go to the alert topic.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger, metrics, route_logs, run_state, scheduled
from costwarden.reaper.execute import run_reaper
from costwarden.reaper.limit_run import run_limits
from costwarden.reaper.limits import limited_teams
from costwarden.services.burn import seed_from_inventory as seed_burn
from costwarden.services.prices import price_book
from costwarden.services.reaper import default_clients, regions_for, sns_publisher
from costwarden.settings import load_settings

route_logs("costwarden.reaper")


@scheduled
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    state = run_state("warnings are not de-duplicated and the audit is only logged")
    result = run_reaper(
        settings,
        regions=regions_for(settings),
        clients=default_clients,
        state=state,
        publish_fn=sns_publisher(),
        prices=price_book(default_clients, state, settings),  # what the reaped alert saves per month (issue 22)
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
    if settings.burn.enabled:  # issue 25: the burn rate starts from what runs now (the inventory snapshot)
        summary["burn_snapshot"] = seed_burn(
            settings, regions=regions_for(settings), clients=default_clients, store=state, now=result.started_at
        )
    logger.info("reaper run finished", **summary)
    return summary
