"""Slack notifier Lambda: SNS record(s) -> alert events -> Block Kit messages -> Slack webhooks, once each.

Flow per record: parse the SNS envelope into ``AlertEvent`` (Powertools parser, ``SnsEnvelope``); run the
delivery through Powertools idempotency keyed on the event's ``dedup_key`` (records in the state table,
pk ``idempotency#<function>``, sk the hashed key, TTL ``expiration``); inside it read the webhook secret, route,
render and post (``costwarden.notifier.delivery``). A second delivery of the same message within
``IDEMPOTENCY_EXPIRY_SECONDS`` returns the first result and posts nothing. Any channel failing raises, so Lambda
retries the record and finally sends it to the dead-letter queue; channels that did succeed are recorded and
skipped on the retry (see delivery.py).

Slack stays bounded: every post has a wall-clock deadline (``RetryPolicy``), and one ``InvocationLimits`` per
invocation allows a single retry of a post that was sent but never answered, whichever channel needs it. Webhook
values must be Slack's (routing.py); the local stand-in of the demo and tests is admitted only by setting
``webhook_allowance`` in code.

Import-safe on purpose: the idempotency persistence layer (which creates a boto3 client and needs
``STATE_TABLE_NAME``) is built on first use by ``_delivery(table_name)``, not at import. Tests can import this
module anywhere and point it at moto; ``reset_caches()`` forgets the cached layer, secret and clients.

Environment: ``STATE_TABLE_NAME`` (required), ``SLACK_SECRET_NAME`` (else ``settings.notifier.slack_secret_name``),
``COSTWARDEN_SETTINGS``, ``COSTWARDEN_TEAMS_FILE`` (the team directory: which channel a team's alerts go to),
``POWERTOOLS_*``. Run locally: ``costwarden run notifier --event events/notifier/...``
with those set (``AWS_ENDPOINT_URL`` for a simulated account); without ``STATE_TABLE_NAME`` it stops with a clear
error instead of guessing a table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.envelopes import SnsEnvelope
from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters import aws, secrets
from costwarden.adapters.slack_app import SLACK_API
from costwarden.adapters.state import STATE_TABLE_ENV_VAR, TTL_ATTRIBUTE, DynamoStateStore
from costwarden.core.slack_urls import WebhookAllowance
from costwarden.handlers.observability import logger, metrics, tracer
from costwarden.interact.buttons import action_blocks
from costwarden.models.alert import AlertEvent
from costwarden.notifier.delivery import DeliveryError, deliver
from costwarden.notifier.routing import Route, parse_webhooks, routes_for
from costwarden.notifier.slack import InvocationLimits, PostResult, RetryPolicy, post_message
from costwarden.services.hardlimit_timer import announce_hard_limit
from costwarden.services.notify import people_for
from costwarden.settings import load_settings

SLACK_SECRET_ENV_VAR = "SLACK_SECRET_NAME"  # noqa: S105 - the variable's name, not a secret
#: How long a dedup_key counts as "already delivered": longer than SNS and Lambda retry windows (hours).
IDEMPOTENCY_EXPIRY_SECONDS = 24 * 3600
#: Retry bounds for each Slack post, the sleep used between attempts and the clock of its deadlines (tests replace
#: them).
retry_policy = RetryPolicy()
sleep: Callable[[float], None] = time.sleep
clock: Callable[[], float] = time.monotonic
#: Webhook origins allowed besides Slack's: none in a deployed function. The demo and the tests set the local Slack
#: stand-in's exact loopback origin here, in code: no secret or environment variable can widen it.
webhook_allowance = WebhookAllowance()
#: Slack's Web API for people (e-mail lookups, direct messages; ``notifier.people``): the demo and the tests set the
#: stand-in's ``api_url`` here, in code, as for ``webhook_allowance``.
slack_api_url = SLACK_API


class NotifierConfigError(RuntimeError):
    """The function is missing configuration (an environment variable): says which and what to set."""


def _table_name() -> str:
    name = os.environ.get(STATE_TABLE_ENV_VAR, "")
    if not name:
        raise NotifierConfigError(
            f"{STATE_TABLE_ENV_VAR} is not set: the notifier keeps its idempotency records in the state table. "
            "Set it to the deployed table's name (and AWS_ENDPOINT_URL for a simulated account)."
        )
    return name


def _secret_name() -> str:
    return os.environ.get(SLACK_SECRET_ENV_VAR) or load_settings().notifier.slack_secret_name


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only when it returns a stored result instead of running the delivery again."""
    return {**response, "duplicate": True} if isinstance(response, dict) else response


@lru_cache(maxsize=4)
def _delivery(table_name: str) -> tuple[IdempotencyConfig, Callable[..., dict[str, Any]], DynamoStateStore]:
    """The idempotent delivery function bound to ``table_name`` (built once per warm container)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=aws.client("dynamodb"),
    )
    config = IdempotencyConfig(
        event_key_jmespath="dedup_key",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS,
        response_hook=_mark_duplicate,
    )
    function = idempotent_function(data_keyword_argument="alert", persistence_store=persistence, config=config)(
        _deliver_once
    )
    return config, function, DynamoStateStore(table_name)


def _deliver_once(
    *, alert: dict[str, Any], context: LambdaContext, store: DynamoStateStore, limits: InvocationLimits
) -> dict[str, Any]:
    """Route, render and post one alert. Runs at most once per dedup_key (unless it raised)."""
    event = AlertEvent.model_validate(alert)
    webhooks = parse_webhooks(secrets.get_json_secret(_secret_name()), webhook_allowance)
    routes = routes_for(event, webhooks, load_settings().teams)
    for route in routes:
        if route.fallback_reason:
            logger.warning(f"routing fallback to {route.channel}: {route.fallback_reason}")
            metrics.add_metric(name="RoutingFallbacks", unit=MetricUnit.Count, value=1)

    def post(route: Route, message: dict[str, Any]) -> PostResult:
        return post_message(
            route.url,
            message,
            channel=route.channel,
            remaining_ms=context.get_remaining_time_in_millis,
            policy=retry_policy,
            sleep=sleep,
            clock=clock,
            limits=limits,
        )

    settings = load_settings()
    buttons = partial(action_blocks, settings=settings) if settings.interact.enabled else None
    if buttons is not None:  # a critical alert of an ``auto`` team arms its hard-limit grace timer, once
        event = announce_hard_limit(event, settings, store)
    # A channel's claim holds while this invocation may still post (Powertools' own in-progress expiry).
    lease = timedelta(milliseconds=context.get_remaining_time_in_millis())
    left = context.get_remaining_time_in_millis
    people = people_for(settings, store, slack_api=slack_api_url, time_left=lambda: left() / 1000)
    report = deliver(
        event, routes, post=post, store=store, log=logger, extra_blocks=buttons, lease=lease, people=people
    )
    return {**report.as_dict(), "duplicate": False}


def reset_caches() -> None:
    """Forget the idempotency layer, cached secret and clients (tests, and the demo between accounts)."""
    _delivery.cache_clear()
    secrets.clear_cache()


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """SNS -> Lambda event in, summary out: per record, the channels posted, skipped and whether it was a repeat."""
    records = event.get("Records") if isinstance(event, dict) else None
    metrics.add_metric(name="AlertsReceived", unit=MetricUnit.Count, value=len(records or []))
    alerts: list[AlertEvent] = parse(event=event, model=AlertEvent, envelope=SnsEnvelope)  # type: ignore[assignment]
    config, deliver_once, store = _delivery(_table_name())
    config.register_lambda_context(context)
    limits = InvocationLimits()  # one retry of an unanswered post for the whole invocation
    results: list[dict[str, Any]] = []
    for alert in alerts:
        logger.append_keys(dedup_key=alert.dedup_key, kind=alert.kind.value, severity=alert.severity.value)
        try:
            result = deliver_once(alert=alert.model_dump(mode="json"), context=context, store=store, limits=limits)
        except DeliveryError as error:
            metrics.add_metric(name="SlackPosts", unit=MetricUnit.Count, value=len(error.report.posted))
            metrics.add_metric(name="SlackFailures", unit=MetricUnit.Count, value=len(error.report.failed))
            if error.permanent:
                metrics.add_metric(name="SlackPermanentFailures", unit=MetricUnit.Count, value=1)
            raise
        if result.get("duplicate"):
            metrics.add_metric(name="DuplicateDeliveries", unit=MetricUnit.Count, value=1)
            logger.info("duplicate delivery: already handled, nothing posted")
        else:
            metrics.add_metric(name="SlackPosts", unit=MetricUnit.Count, value=len(result["posted"]))
        results.append(result)
    return {"records": len(alerts), "results": results}
