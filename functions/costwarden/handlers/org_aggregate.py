"""State machine step between the reaper's phases: both caps over every account's plan, before anything acts.

The plan comes inline (a list: in-process) or as the plan Map's ResultWriter output (read from the results bucket);
with the bucket, the act items and the approval are written there and the state carries their keys."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger
from costwarden.handlers.org_common import result_store, run_time
from costwarden.org.results import load_listing, load_outputs, prefix_of, stage_aggregate
from costwarden.services.org import aggregate_plans
from costwarden.services.reaper import sns_publisher, state_store
from costwarden.settings import load_settings


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    plan = event.get("plan")
    if not isinstance(plan, list | dict):
        raise ValueError(
            "the aggregation needs the plan phase's results under 'plan' (a list, or the Map's ResultWriter output), "
            f"got {type(plan).__name__}"
        )
    store = result_store(event)
    given = event.get("listing")
    listing: dict[str, Any] = given if isinstance(given, dict) else {}
    items = load_listing(store, listing).get("items") or []  # the items' order, for ResultWriter's unordered files
    outputs = load_outputs(store, plan, items)
    state, _ = state_store(probe=False)
    result = aggregate_plans(load_settings(), outputs, state=state, publish_fn=sns_publisher(), now=run_time(event))
    approval = result.approval.summary()
    out: dict[str, Any] = {
        "approval": approval,
        "act_items": result.act_items,
        "act": bool(result.act_items),
        "blocked": None if result.event is None else result.event.title,
        "blocked_alert_published": result.published,
        "publish_error": result.publish_error,
    }
    logger.info("organization plan aggregated", extra=approval)
    if store is None:
        return out
    return stage_aggregate(store, out, prefix_of(listing))
