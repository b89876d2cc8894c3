"""State machine Map iteration: one capability for one account x region, as the member role (plan or act)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger, route_logs
from costwarden.handlers.org_common import run_time
from costwarden.org.items import ItemError, parse_item
from costwarden.services.org import CAPABILITIES, ItemContext, run_item
from costwarden.services.prices import price_book
from costwarden.services.reaper import default_clients, sns_publisher, state_store
from costwarden.settings import load_settings

route_logs("costwarden.reaper")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        item = parse_item(event.get("item"), tuple(CAPABILITIES))
    except ItemError as error:
        given = event.get("item")
        raw: dict[str, Any] = given if isinstance(given, dict) else {}
        return {
            "ok": False,
            "error": str(error),
            "account_id": raw.get("account_id", "?"),
            "region": raw.get("region", "?"),
        }
    state, _ = state_store(probe=False)
    settings = load_settings()
    # The reaped alert's saving (issue 22) is priced with this function's own role: list prices are public and the
    # same in every account, and the snapshot in the state table is shared with the single-account runs.
    prices = price_book(default_clients, state, settings)
    context_ = ItemContext(state=state, publish_fn=sns_publisher(), now=run_time(event), prices=prices)
    outcome = run_item(settings, item, context_)
    logger.info("organization item done", extra=outcome)
    return outcome
