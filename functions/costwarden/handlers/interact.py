"""Slack app endpoint (Lambda Function URL): verify and acknowledge within Slack's 3 s, then work.

Two kinds of invocation reach this one function:

* an HTTP request from Slack (Function URL event): ``interact.receive`` verifies the v0 signature, parses, claims
  the action id once, and the function answers at once (200, or 401/400 with a generic body). A request worth
  working on is handed to a second, asynchronous invocation of this same function (``InvocationType=Event``),
  so Slack's answer never waits for AWS or Slack calls;
* that asynchronous invocation (``{"costwarden_interaction": ...}``, only this function's role may invoke it):
  authorization, the action through its guard path, the audit, the message update.

Why not slack_bolt's lazy listeners: they do exactly this self-invoke, but bring Bolt's own request verification,
its OAuth/installation machinery and a second configuration surface for one endpoint with four actions; the
verification here is 40 lines with the tests the issue asks for. Logs carry the status and the kind of request
only: never the body, the headers or the signature.

Imports for the work (pandas through ``cost.episodes``, the reaper registry) are made in the worker branch only:
the acknowledging path stays light for the cold start.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from costwarden.adapters import aws
from costwarden.core.slack_urls import WebhookAllowance
from costwarden.handlers.observability import logger
from costwarden.interact.receive import from_event, receive, to_event
from costwarden.services.reaper import state_store
from costwarden.settings import load_settings

#: Origins besides Slack's that a response_url may name: none deployed; the tests and the benchmark set the local
#: stand-in's exact loopback origin here, in code.
allowance = WebhookAllowance()
#: The Slack Web API base (tests: the stand-in's ``api_url``).
slack_api = "https://slack.com/api/"
#: How the worker is started: an async self-invoke (tests replace it to run the worker in-process).
_invoke_self: Any = None


def _secret_name() -> str:
    from costwarden.services.interact import APP_SECRET_ENV_VAR

    return os.environ.get(APP_SECRET_ENV_VAR) or load_settings().interact.app_secret_name


def _http(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from costwarden.services.interact import app_secret

    raw = event.get("body") or ""
    try:
        body = base64.b64decode(str(raw), validate=True) if event.get("isBase64Encoded") else str(raw).encode()
    except (binascii.Error, ValueError):  # not base64 although the URL said so: the sender's fault, a plain 400
        return {"statusCode": 400, "headers": {"Content-Type": "text/plain"}, "body": "bad request"}
    headers = event.get("headers") or {}
    signing, _ = app_secret(_secret_name())
    state, _note = state_store(probe=False)
    settings = load_settings()
    ack = receive(
        body,
        headers,
        secret=signing,
        state=state,
        now=datetime.now(UTC),
        max_age=settings.interact.max_request_age_seconds,
        allowance=allowance,
    )
    logger.info("slack request", status=ack.status, kind=ack.work.kind if ack.work else "none")
    if ack.work is not None:
        payload = json.dumps(to_event(ack.work)).encode()
        if _invoke_self is not None:
            _invoke_self(payload)
        else:
            aws.client("lambda").invoke(
                FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=payload
            )
    content_type = "application/json" if ack.body.startswith("{") else "text/plain"
    return {"statusCode": ack.status, "headers": {"Content-Type": content_type}, "body": ack.body}


def work(event: dict[str, Any]) -> dict[str, Any]:
    """The asynchronous half: authorize, act, audit, update the message."""
    from costwarden.interact.actions import handle
    from costwarden.services.interact import app_secret, context

    interaction = from_event(event)
    if interaction is None:
        return {"status": "ignored"}
    _, token = app_secret(_secret_name())
    state, _note = state_store(probe=False)
    outcome = handle(context(load_settings(), state, bot_token=token, slack_api=slack_api), interaction)
    logger.info("slack action", status=outcome.status, kind=interaction.kind, basis=outcome.basis)
    return {"status": outcome.status}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "costwarden_interaction" in event:
        return work(event)
    if "costwarden_hard_limit_timer" in event:  # the hard limit's grace timer (EventBridge Scheduler) fired
        from costwarden.services.hardlimit_timer import fire_timer

        result = fire_timer(event["costwarden_hard_limit_timer"])
        logger.info("hard limit timer", status=result["status"])
        return result
    return _http(event, context)
