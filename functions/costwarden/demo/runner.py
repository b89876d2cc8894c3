"""``costwarden demo``: the guardrail's day on a simulated AWS account, told chapter by chapter.

1. Start moto's ``ThreadedMotoServer`` on 127.0.0.1 (free port) and the Slack stand-in on 127.0.0.1 (free port).
   Inside this process only, boto3 is pointed at the server (``AWS_ENDPOINT_URL``) with fake credentials; the
   previous environment is restored afterwards. Nothing leaves the machine.
2. Create the stack's resources there (``costwarden.demo.stack``).
3. Run each chapter of ``CHAPTERS`` in order. After each one, everything SNS delivered is wrapped in the real
   SNS -> Lambda envelope and handed to the notifier handler (``costwarden.handlers.notifier.handler``), and what the
   Slack stand-in received is printed.
4. Write ``alerts.json`` (every event the alert topic delivered), ``slack.json`` (every webhook POST as received,
   with its channel) and ``function-logs.jsonl`` (the functions' JSON logs and metrics) into the output folder.

Adding a chapter: a module ``costwarden/demo/<area>.py`` with ``chapter(env: DemoEnv) -> None`` and one line below.
The exit code is 0 only if every chapter and every delivery succeeded.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from costwarden.adapters import aws
from costwarden.demo.env import DemoEnv
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.demo.stack import APP_SECRET_NAME, create_stack, drain_deliveries, lambda_event, webhook_paths
from costwarden.models.alert import AlertEvent
from costwarden.settings import load_settings

#: (title, dotted path of ``chapter(env)``), in the order the story is told.
CHAPTERS: list[tuple[str, str]] = [
    ("Alert delivery: one alert of each severity through the alert topic", "costwarden.demo.alerts.chapter"),
    ("Cost monitor: anomalies with root causes, a budget at risk, the next day", "costwarden.demo.cost.chapter"),
    ("Tag audit: who owns what, untagged spend, cost allocation tags", "costwarden.demo.tags.chapter"),
    ("The reaper: a dry-run plan, then applied; nothing outside the plan touched", "costwarden.demo.reaper.chapter"),
    ("The next morning: the daily digest", "costwarden.demo.digest.chapter"),
    ("Weeks later: the idle finder, priced per team, handed to the reaper", "costwarden.demo.idle.chapter"),
    (
        "The four levers: spot, artefact lifecycle, commitments, and the monthly report",
        "costwarden.demo.advisor.chapter",
    ),
    ("Organization scale: one run across every member account", "costwarden.demo.org.chapter"),
    ("Kubernetes on EKS: namespace spend guarded like a team's, the idle GPU node", "costwarden.demo.k8s.chapter"),
    ("Minutes, not a day: a launch at 09:00 is an alert at 09:03 (the burn guard)", "costwarden.demo.burn.chapter"),
    ("One click: a button pressed in Slack, through the signed endpoint", "costwarden.demo.buttons.chapter"),
]

NOTIFIER_HANDLER = "costwarden.handlers.notifier.handler"
DEMO_REGION = "us-east-1"

_RULE = "=" * 100


@contextlib.contextmanager
def _environment(values: dict[str, str], drop: tuple[str, ...] = ()) -> Iterator[None]:
    """Set environment variables for the demo's duration, then restore exactly what was there."""
    saved = dict(os.environ)
    for name in drop:
        os.environ.pop(name, None)
    os.environ.update(values)
    _clear_caches()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _clear_caches()


def _clear_caches() -> None:
    """Cached clients and settings made for one endpoint must not outlive it."""
    aws.client.cache_clear()
    load_settings.cache_clear()
    notifier = sys.modules.get("costwarden.handlers.notifier")
    if notifier is not None:
        notifier.reset_caches()


def _resolve(dotted: str) -> Callable[..., Any]:
    module_name, _, attribute = dotted.rpartition(".")
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
    return function


def run_demo(out_dir: Path | str = "demo-out", stream: TextIO | None = None) -> int:
    """Run every chapter on a fresh simulated account; write the out folder; return the exit code."""
    from moto.server import ThreadedMotoServer

    from costwarden.demo import moto_capacity
    from costwarden.handlers import notifier

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stream = stream or sys.stdout
    started = time.monotonic()

    # moto's server logs every request through werkzeug; the story is told by the chapters instead.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # The server shares moto's process-wide backends: start every demo from an empty account.
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    moto_capacity.install()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    slack = SlackStandIn().start()
    # The notifier posts only to Slack's hosts, unless told in code to allow the stand-in's exact origin.
    # ... and its Web API calls for people (e-mail lookups, direct messages) go to the stand-in too.
    previous_allowance, previous_api, notifier.webhook_allowance, notifier.slack_api_url = (
        notifier.webhook_allowance,
        notifier.slack_api_url,
        slack.allowance(),
        slack.api_url,
    )
    try:
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        paths = webhook_paths()
        environment = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": DEMO_REGION,
            "AWS_DEFAULT_REGION": DEMO_REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "costwarden-demo",
            "POWERTOOLS_METRICS_NAMESPACE": "Costwarden",
        }
        drop = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
        with _environment(environment, drop), (out / "function-logs.jsonl").open("w") as logs:
            env = DemoEnv(
                endpoint_url=endpoint,
                region=DEMO_REGION,
                account_id="",
                alert_topic_arn="",
                state_table_name="",
                kms_key_id="",
                slack_secret_name="",
                delivery_queue_url="",
                slack=slack,
                out_dir=out,
                slack_paths=paths,
                stream=stream,
            )
            stack = create_stack(env.client, slack.base_url, paths, slack.bot_token)
            env.account_id = env.client("sts").get_caller_identity()["Account"]
            env.alert_topic_arn = stack.alert_topic_arn
            env.state_table_name = stack.state_table_name
            env.kms_key_id = stack.kms_key_id
            env.slack_secret_name = stack.slack_secret_name
            env.delivery_queue_url = stack.delivery_queue_url
            os.environ.update(
                {
                    "ALERT_TOPIC_ARN": stack.alert_topic_arn,
                    "STATE_TABLE_NAME": stack.state_table_name,
                    "SLACK_SECRET_NAME": stack.slack_secret_name,
                    "SLACK_APP_SECRET_NAME": APP_SECRET_NAME,
                }
            )
            env.say(_RULE)
            env.say("Costwarden demo: a few days in November 2026 of an ML platform's AWS account, simulated locally.")
            env.say(
                "Every chapter runs the real Costwarden code against a moto server on this machine; after each one, "
                "what was published to the alert topic goes through the real notifier, and the Slack messages your "
                "channels would get are printed after it (the lines starting with '->'). Nothing leaves this machine."
            )
            env.say(f"  moto: {endpoint}   Slack stand-in: {slack.base_url}   account {env.account_id}")
            env.say(f"  alert topic {stack.alert_topic_arn} (KMS), state table {stack.state_table_name}")
            failures = _run_chapters(env, stack.delivery_subscription_arn, logs)
            _write_outputs(env)
            env.say(_RULE)
            distinct = len({event.dedup_key for event in env.published})
            posted = sum(1 for request in env.slack_received if request["status"] == 200)
            env.say(
                f"{len(env.published)} alerts delivered by SNS ({distinct} distinct); {posted} Slack posts accepted "
                f"of {len(env.slack_received)} requests. Wrote {out}/alerts.json, {out}/slack.json, "
                f"{out}/function-logs.jsonl in {time.monotonic() - started:.1f} s"
            )
            if failures:
                env.say(f"FAILED: {len(failures)} step(s): " + "; ".join(failures))
                return 1
            return 0
    finally:
        notifier.webhook_allowance, notifier.slack_api_url = previous_allowance, previous_api
        slack.stop()
        moto.stop()


def _run_chapters(env: DemoEnv, subscription_arn: str, logs: TextIO) -> list[str]:
    from costwarden.handlers.observability import logger

    failures: list[str] = []
    env.use_settings({})  # the defaults, with the Slack app on, until a chapter sets its own
    # The functions' JSON logs go to function-logs.jsonl, not between the story's lines.
    handler = logger.registered_handler
    stream_handler = handler if isinstance(handler, logging.StreamHandler) else None
    # Swap the stream itself rather than setStream(): that flushes the old stream first, which may already be
    # closed when the demo runs more than once in a process (tests capturing stdout).
    previous = stream_handler.stream if stream_handler is not None else None
    if stream_handler is not None:
        stream_handler.stream = logs
    try:
        for number, (title, dotted) in enumerate(CHAPTERS, start=1):
            env.say(_RULE)
            env.say(f"Chapter {number}: {title}")
            env.say("")
            try:
                with contextlib.redirect_stdout(logs):
                    _resolve(dotted)(env)
            except Exception as error:  # a chapter failing must not hide the others; it fails the exit code
                env.say(f"  chapter failed: {type(error).__name__}: {error}")
                env.say("".join(traceback.format_exc()))
                failures.append(f"chapter {number} ({type(error).__name__})")
            failures.extend(_deliver(env, subscription_arn, logs))
    finally:
        if stream_handler is not None and previous is not None:
            stream_handler.stream = previous
    return failures


def _deliver(env: DemoEnv, subscription_arn: str, logs: TextIO) -> list[str]:
    """Hand every SNS delivery to the notifier handler; print what Slack received as a result."""
    from costwarden.handlers.context import LocalContext

    failures: list[str] = []
    notifications = drain_deliveries(env.client("sqs"), env.delivery_queue_url)
    if not notifications:
        env.say("  (nothing was published to the alert topic)")
        return failures
    handler = _resolve(NOTIFIER_HANDLER)
    env.say(f"  SNS delivered {len(notifications)} alert(s); the notifier handled each:")
    for notification in notifications:
        event = AlertEvent.from_json(notification["Message"])
        env.published.append(event)
        before = len(env.slack.received)
        try:
            with contextlib.redirect_stdout(logs):
                summary = handler(lambda_event(notification, subscription_arn), LocalContext(function_name="notifier"))
            for result in summary.get("results", []):
                if result.get("duplicate"):
                    env.say("")
                    env.say(
                        f"  -> {notification.get('Subject')!r}: already delivered (dedup key {result['dedup_key']}), "
                        "nothing posted"
                    )
        except Exception as error:  # in AWS the record would go to the dead-letter queue; here it fails the demo
            env.say(f"  notifier failed on {notification['MessageId']}: {type(error).__name__}: {error}")
            failures.append(f"delivery of {notification.get('Subject')!r} ({type(error).__name__})")
        for request in env.slack.received[before:]:
            channel = _channel_of(env.slack_paths, request.path)
            env.slack_received.append(
                {"channel": channel, "path": request.path, "status": request.status, "answer": request.answer}
                | {"message": request.body}
            )
            brief = event.kind.value in env.brief_kinds
            print_message(env, channel, request.status, request.answer, request.body or {}, brief=brief)
    return failures


def _channel_of(paths: dict[str, str], path: str) -> str:
    return next((channel for channel, known in paths.items() if known == path), "unknown")


_EMOJI = {
    ":information_source:": "\N{INFORMATION SOURCE}\N{VARIATION SELECTOR-16} ",
    ":warning:": "\N{WARNING SIGN}\N{VARIATION SELECTOR-16} ",
    ":rotating_light:": "\N{POLICE CARS REVOLVING LIGHT}",
    ":white_check_mark:": "\N{WHITE HEAVY CHECK MARK}",
}


def _plain(text: str) -> str:
    """mrkdwn as terminal text: no bold markers, entities decoded, the severity shortcodes as emoji."""
    for code, emoji in _EMOJI.items():
        text = text.replace(code, emoji)
    return text.replace("*", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def print_message(
    env: DemoEnv,
    channel: str,
    status: int,
    answer: str,
    message: dict[str, Any],
    *,
    brief: bool = False,
    where: str = "Slack channel",
) -> None:
    """A Block Kit message as readable text: channel, header, summary, fields, lists, context.

    ``brief`` (``DemoEnv.brief_kinds``): its head only, up to the first divider, e.g. a digest shown in full later.
    ``where``: what received it (a channel's webhook; the Slack app's reply to a ``response_url``).
    """
    env.say("")
    env.say(f"  -> {where} {channel}  [{status} {answer}]")
    if status != 200:
        verdict = "retried" if status == 429 or status >= 500 else "refused: the record would go to the DLQ"
        env.say(f"     (not posted; {verdict})")
        return
    for block in message.get("blocks", []):
        kind = block.get("type")
        if kind == "header":
            env.say(f"     {_plain(block['text']['text'])}")
        elif kind == "section":
            if "text" in block:
                for line in _plain(block["text"]["text"]).splitlines():
                    env.say(f"     {line}")
            if "fields" in block:
                pairs = [_plain(field["text"]).replace("\n", ": ", 1) for field in block["fields"]]
                env.say("     " + " | ".join(pairs))
        elif kind == "context":
            env.say("     " + " · ".join(_plain(element.get("text", "")) for element in block.get("elements", [])))
        elif kind == "divider":
            if brief:
                env.say("     (the rest of this digest is not shown here: chapter 5 shows one in full)")
                return
            env.say("     " + "-" * 40)
    if not message.get("blocks"):
        env.say(f"     {message.get('text', '')}")


def _write_outputs(env: DemoEnv) -> None:
    alerts = [json.loads(event.to_json()) for event in env.published]
    (env.out_dir / "alerts.json").write_text(json.dumps(alerts, indent=2, ensure_ascii=False) + "\n")
    (env.out_dir / "slack.json").write_text(json.dumps(env.slack_received, indent=2, ensure_ascii=False) + "\n")
