"""State machine last step: the one run summary (per account), logged and kept in the state table.

Each input is inline (in-process) or a pointer into the results bucket (the deployed machine: the staged listing,
the Maps' ResultWriter outputs, the staged aggregation); with the bucket the whole summary is written there and the
state and the state table get it bounded (``bounded_summary``: a run where every item fails stays deployable)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger
from costwarden.handlers.org_common import result_store, run_time
from costwarden.org.results import SUMMARY, bounded_summary, load_aggregate, load_listing, load_outputs, prefix_of
from costwarden.services.org import publish_idle, summarize
from costwarden.services.reaper import sns_publisher, state_store
from costwarden.settings import load_settings

SUMMARY_TTL_DAYS = 400


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store = result_store(event)
    listing = load_listing(store, event.get("listing") or {})
    aggregate = load_aggregate(store, event.get("aggregate") or {})
    items = listing.get("items") or []
    plan = load_outputs(store, event.get("plan") or [], items)
    summary = summarize(
        plan,
        aggregate.get("approval") or {},
        load_outputs(store, event.get("act") or [], items),
        dict(listing.get("skipped_accounts") or {}),
    )
    summary["capability"] = listing.get("capability", "reaper")
    summary["blocked"] = aggregate.get("blocked")
    at = run_time(event)
    state, _ = state_store(probe=False)
    settings = load_settings()
    if summary["capability"] == "idle":
        # One weekly alert per team over every account (the items alert nobody).
        summary["idle"] = publish_idle(settings, plan, state=state, publish_fn=sns_publisher(), now=at)
    if store is not None:  # the whole summary in the bucket; the state and the record within their limits
        key = prefix_of(event.get("listing") or {}) + SUMMARY
        store.put_json(key, summary)
        summary = bounded_summary(summary, key)
    ttl = min(SUMMARY_TTL_DAYS, settings.reaper.audit_ttl_days)
    state.put(f"orgrun#{at.strftime('%Y-%m-%d')}", f"{summary['capability']}#{at.isoformat()}", summary, ttl_days=ttl)
    logger.info("organization run finished", extra=summary)
    return summary
