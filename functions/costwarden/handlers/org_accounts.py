"""State machine step 1: the organization's guarded accounts x regions as work items (Organizations, read only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.handlers.observability import logger
from costwarden.services.org import list_items
from costwarden.settings import load_settings


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    listing = list_items(load_settings(), str(event.get("capability", "reaper")))
    logger.info(
        "organization listed",
        extra={k: listing[k] for k in ("capability", "skipped_accounts", "unknown_ids", "organizations_requests")},
    )
    return listing
