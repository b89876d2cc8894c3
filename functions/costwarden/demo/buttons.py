"""Demo chapter: one click. The idle finder's alert to vision (chapter 6) carries buttons, because the demo runs with
the Slack app on; here the on-call engineer presses *Stop* on the idle GPU box, and the press goes end to end:

1. the Slack stand-in plays Slack's part (``slack_standin.button_press``): the ``block_actions`` request, signed with
   the app's signing secret (stored in Secrets Manager on the moto server, as deployed);
2. the real interact handler (``handlers.interact.handler``, the Function URL's code) verifies the v0 signature,
   claims the press once and acknowledges at once; its asynchronous half (the self-invoke, run in this process)
   authorizes the presser, reads the instance fresh and stops it through the one action path, audits, and answers
   on the message's ``response_url`` (the stand-in, which accepts it);
3. the same request sent again is acknowledged and does nothing (the replay guard); a request signed with another
   secret is refused with 401 and never parsed.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from costwarden.adapters import secrets
from costwarden.adapters.state import DynamoStateStore
from costwarden.demo.env import DEMO_ONCALL, DemoEnv
from costwarden.demo.runner import print_message
from costwarden.demo.slack_standin import button_press
from costwarden.demo.stack import DEMO_SIGNING_SECRET
from costwarden.handlers.context import LocalContext

CHANNEL = "team:vision"
#: The Slack channel vision's alerts are posted in (its webhook's channel), where the button is pressed.
SLACK_CHANNEL = "ml-vision"
RESPONSE_PATH = "/actions/T0DEMO/0001/one-click"


def _stop_button(env: DemoEnv) -> tuple[dict[str, Any], dict[str, Any]]:
    """The idle alert vision's channel got, and the first *Stop* button on it (the largest finding)."""
    for request in env.slack_received:
        message = request.get("message") or {}
        if request["channel"] != CHANNEL or request["status"] != 200:
            continue
        for block in message.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if str(element.get("action_id", "")).startswith("cw_idle_stop"):
                    return message, element
    raise RuntimeError(f"no idle alert with a Stop button reached {CHANNEL}: the idle chapter must run first")


def _state_of(env: DemoEnv, arn: str) -> str:
    region, instance_id = arn.split(":")[3], arn.rsplit("/", 1)[-1]
    found = env.client("ec2", region).describe_instances(InstanceIds=[instance_id])
    return str(found["Reservations"][0]["Instances"][0]["State"]["Name"])


@contextlib.contextmanager
def _endpoint(env: DemoEnv) -> Iterator[list[bytes]]:
    """The interact handler wired as deployed, but to this machine: responses to the stand-in's exact origin, the
    Web API at the stand-in, and the asynchronous self-invoke queued (yielded) to run here once it has answered."""
    from costwarden.handlers import interact

    queued: list[bytes] = []
    saved = interact.allowance, interact.slack_api, interact._invoke_self
    interact.allowance, interact.slack_api, interact._invoke_self = (
        env.slack.allowance(),
        env.slack.api_url,
        queued.append,
    )
    secrets.clear_cache()
    try:
        yield queued
    finally:
        interact.allowance, interact.slack_api, interact._invoke_self = saved
        secrets.clear_cache()


def _post(headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], float]:
    """Slack's POST to the Function URL: the handler's answer and how long it took (seconds)."""
    from costwarden.handlers import interact

    started = time.monotonic()
    event = {"version": "2.0", "headers": headers, "body": body.decode(), "isBase64Encoded": False}
    context: Any = LocalContext(function_name="interact")  # enough of LambdaContext for the handler
    answer = interact.handler(event, context)
    return answer, time.monotonic() - started


def chapter(env: DemoEnv) -> None:
    from costwarden.handlers import interact

    # The team's channel as its directory names it (``teams.<team>.channel``): the Slack app answers a press only
    # from a channel the target's team is routed to; the reaper out of dry run, as in the idle chapter.
    env.use_settings({"reaper": {"dry_run": False}, "teams": {"vision": {"channel": SLACK_CHANNEL}}})
    message, button = _stop_button(env)
    target = json.loads(button["value"])["r"]
    env.say(
        "The demo runs with the Slack app on: the idle alert vision got in chapter 6 carries Keep and Stop buttons. "
        f"The on-call engineer ({DEMO_ONCALL}) presses {button['text']['text']!r} on {target}"
        f" (instance now {_state_of(env, target)})."
    )
    press = {"user": DEMO_ONCALL, "channel": SLACK_CHANNEL, "response_url": env.slack.url(RESPONSE_PATH)}
    with _endpoint(env) as queued:
        before = len(env.slack.received)
        now = int(time.time())
        answer, _ = _post(*button_press(message, button, **press, signing_secret=b"another-secret", timestamp=now))
        env.say(f"  a request signed with another secret: HTTP {answer['statusCode']} {answer['body']!r}, not parsed")
        signed = button_press(message, button, **press, signing_secret=DEMO_SIGNING_SECRET.encode(), timestamp=now)
        answer, took = _post(*signed)
        worked = [interact.work(json.loads(payload)) for payload in queued]
        queued.clear()
        statuses = ", ".join(w["status"] for w in worked) or "nothing handed over"
        env.say(
            f"  Slack's signed POST ({len(signed[1])} bytes, X-Slack-Signature {signed[0]['x-slack-signature'][:12]}"
            f"...): HTTP {answer['statusCode']} in {took * 1000:.0f} ms, before any action; then the asynchronous "
            f"half (authorize, read the instance fresh, stop it, audit, answer): {statuses}"
        )
        for reply in env.slack.received[before:]:
            where = "the Slack app's reply on the pressed message (response_url)"
            print_message(env, reply.path, reply.status, reply.answer, reply.body or {}, where=where)
        env.say("")
        env.say(f"  {target.rsplit('/', 1)[-1]} is now {_state_of(env, target)}; the audit log says who:")
        for item in _audit(env):
            env.say(f"    {item['action']} {item['status']} by {item['who']} in #{item['channel']}: {item['reply']}")
        again, _ = _post(*signed)
        env.say(
            f"  the same request again (a Slack retry): HTTP {again['statusCode']}; handed to the worker: {len(queued)}"
        )
    if [w["status"] for w in worked] != ["done"] or queued:
        raise RuntimeError(f"the press was not done exactly once: {worked}, replays worked: {len(queued)}")


def _audit(env: DemoEnv) -> list[dict[str, Any]]:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    return list(DynamoStateStore(env.state_table_name).query(f"audit#{today}", "interact#"))
