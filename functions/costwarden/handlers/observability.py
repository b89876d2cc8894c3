"""One Logger, Tracer and Metrics set for every function, configured by ``POWERTOOLS_*`` environment variables.

Each function's ``POWERTOOLS_SERVICE_NAME`` (set by infra) names it in logs and metrics; the namespace is shared.
What every scheduled handler otherwise wrote again lives here too: a capability's logger routed to the JSON
handler (``route_logs``), the untraced entry (``scheduled``) and the state table with its fallback (``run_state``).
"""

import logging
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

from costwarden.models.ports import StateStore

METRICS_NAMESPACE = "Costwarden"

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)


def route_logs(name: str) -> None:
    """Give the standard logger ``name`` Powertools' JSON handler: a capability logs through ``logging`` (it has no
    Powertools dependency), and in its Lambda every record it writes (a reaper decision) is one structured line."""
    log = logging.getLogger(name)
    log.setLevel(logger.log_level)
    log.handlers = list(logger.handlers)
    log.propagate = False


def scheduled[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """The entry of a scheduled function that is not traced (idle finder, reaper, advisor, monthly report): the
    Lambda context in every log line, the metrics flushed once it returns."""
    return cast(Handler, metrics.log_metrics(logger.inject_lambda_context(handler)))


def run_state(lost: str) -> StateStore:
    """The deployed state table, used as is (``state_store(probe=False)``: a transient error fails the run loudly);
    without one, memory, and a warning saying what is ``lost`` by that (what goes undone without the table)."""
    from costwarden.services.reaper import state_store  # not at import: the notifier and cost monitor never need it

    state, note = state_store(probe=False)
    if note:
        logger.warning(f"no state table: {lost}", note=note)
    return state
