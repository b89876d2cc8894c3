"""State machine last step: the one run summary (per account), logged and kept in the state table."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger
from costwarden.handlers.org_common import run_time
from costwarden.services.org import publish_idle, summarize
from costwarden.services.reaper import sns_publisher, state_store
from costwarden.settings import load_settings

SUMMARY_TTL_DAYS = 400


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    listing = event.get("listing") or {}
    aggregate = event.get("aggregate") or {}
    summary = summarize(
        event.get("plan") or [],
        aggregate.get("approval") or {},
        event.get("act") or [],
        dict(listing.get("skipped_accounts") or {}),
    )
    summary["capability"] = listing.get("capability", "reaper")
    summary["blocked"] = aggregate.get("blocked")
    at = run_time(event)
    state, _ = state_store(probe=False)
    settings = load_settings()
    if summary["capability"] == "idle":
        # One weekly alert per team over every account (the items alert nobody).
        summary["idle"] = publish_idle(
            settings, event.get("plan") or [], state=state, publish_fn=sns_publisher(), now=at
        )
    ttl = min(SUMMARY_TTL_DAYS, settings.reaper.audit_ttl_days)
    state.put(f"orgrun#{at.strftime('%Y-%m-%d')}", f"{summary['capability']}#{at.isoformat()}", summary, ttl_days=ttl)
    logger.info("organization run finished", extra=summary)
    return summary
