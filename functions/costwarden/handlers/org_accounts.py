"""State machine step 1: the organization's guarded accounts x regions as work items (Organizations, read only).

With the results bucket (``bucket``, ``run``: the deployed machine) the items and the listing are written there and
the step returns their keys (the Map reads the items with ``ItemReader``); without it (in-process) inline."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger
from costwarden.handlers.org_common import result_store
from costwarden.org.results import run_prefix, stage_listing
from costwarden.services.org import list_items
from costwarden.settings import load_settings


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    capability = str(event.get("capability", "reaper"))
    store = result_store(event)
    listing = list_items(load_settings(), capability)  # refuses an unknown capability before any key is made
    logger.info(
        "organization listed",
        extra={k: listing[k] for k in ("capability", "skipped_accounts", "unknown_ids", "organizations_requests")},
    )
    if store is None:
        return listing
    return stage_listing(store, listing, run_prefix(capability, event.get("run")))
