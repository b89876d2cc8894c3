"""State machine step between the reaper's phases: both caps over every account's plan, before anything acts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger
from costwarden.handlers.org_common import run_time
from costwarden.services.org import aggregate_plans
from costwarden.services.reaper import sns_publisher, state_store
from costwarden.settings import load_settings


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    plan = event.get("plan")
    if not isinstance(plan, list):
        raise ValueError(
            f"the aggregation needs the plan phase's results as a list under 'plan', got {type(plan).__name__}"
        )
    state, _ = state_store(probe=False)
    result = aggregate_plans(load_settings(), plan, state=state, publish_fn=sns_publisher(), now=run_time(event))
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
    return out
