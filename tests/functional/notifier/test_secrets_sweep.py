"""Issue 9, "Secrets stay secret": every failure case a pasted webhook can cause, swept for the token.

Each case runs through the real entry point (the notifier handler, ``post_message``, the settings loader) with the
root, slack_sdk, botocore and function loggers at DEBUG, and then every log line, every exception (its message, its
repr, its chained causes and its formatted traceback), the returned report and what the state table recorded are
searched for the token. The cases were first reproduced leaking it: the whitespace/control-character values through
slack_sdk's error line, ``slack_error`` and ``DeliveryError``; the pasted keys through the config error's message.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from costwarden.handlers import notifier
from costwarden.notifier.delivery import DeliveryError
from costwarden.notifier.slack import SDK_LOGGER, SlackError, post_message
from costwarden.settings import SETTINGS_ENV_VAR, load_settings

from tests.functional.notifier.support import (
    PATHS,
    SECRET,
    TABLE,
    NotifierWorld,
    Sleeps,
    function_log_at_debug,
    make_event,
    script_every_failure,
    sns_event,
)

TOKEN = "s3cr3tHostileToken"
HOSTILE_PATH = f"/services/T000/BHOSTILE/{TOKEN}"


@dataclass
class Logs:
    caplog: pytest.LogCaptureFixture
    buffer: io.StringIO

    def reset(self) -> None:
        """Forget what the test's own setup logged (writing the hostile secret through boto3, at DEBUG)."""
        self.caplog.clear()
        self.buffer.seek(0)
        self.buffer.truncate()

    def __call__(self) -> str:
        return self.caplog.text + "\n" + self.buffer.getvalue()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[Logs]:
    """Everything logged at DEBUG: root, slack_sdk (ours and its own), botocore, and the function's JSON log."""
    caplog.set_level(logging.DEBUG)
    for name in ("slack_sdk", SDK_LOGGER.name, "botocore", "urllib3", "costwarden"):
        caplog.set_level(logging.DEBUG, logger=name)
    with function_log_at_debug() as buffer:
        yield Logs(caplog, buffer)


def _exception_text(error: BaseException) -> str:
    """The message, repr, every chained cause or context, and the formatted traceback of ``error``."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        parts += [str(current), repr(current), *map(str, current.args)]
        if isinstance(current, SlackError):
            parts += [current.reason, current.channel]
        if isinstance(current, DeliveryError):
            parts.append(json.dumps(current.report.as_dict()))
        pending += [current.__cause__, current.__context__]  # type: ignore[list-item]
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


def _recorded() -> str:
    return json.dumps(boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"])


def _put_secret(world: NotifierWorld, secret: dict[str, Any], logs: Logs) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=SECRET, SecretString=json.dumps(secret)
    )
    notifier.reset_caches()
    logs.reset()


def _assert_clean(*texts: str) -> None:
    everything = "\n".join(texts)
    assert TOKEN not in everything
    for path in PATHS.values():
        assert path.rsplit("/", 1)[-1] not in everything


def _hostile_values(world: NotifierWorld) -> dict[str, str]:
    base = world.slack.base_url
    return {
        "comment": f"{base}{HOSTILE_PATH}  # vision",
        "bell": f"{base}/services/T000/BHOSTILE/s3cr3t\x07{TOKEN}",
        "newline": f"{base}{HOSTILE_PATH}\n",
        "tab": f"{base}/services/T000/BHOSTILE/\t{TOKEN}",
    }


@pytest.mark.parametrize("case", ["comment", "bell", "newline", "tab"])
def test_a_webhook_with_whitespace_or_a_control_character_leaks_nowhere(
    world: NotifierWorld, logs: Logs, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    hostile = _hostile_values(world)[case]
    _put_secret(world, {**world.secret, "teams": {"vision": hostile}}, logs)

    with pytest.raises(ValueError, match=r"teams\[0\].*whitespace, control or non-ASCII") as caught:
        world.invoke(sns_event(make_event()))

    assert world.slack.received == []  # refused before anything was sent
    out, err = capsys.readouterr()
    _assert_clean(logs(), out, err, _exception_text(caught.value), _recorded())


@pytest.mark.parametrize("case", ["comment", "bell", "newline", "tab"])
def test_post_message_refuses_such_a_url_without_sending_or_echoing_it(
    world: NotifierWorld, logs: Logs, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """The adapter checks the same rule itself: whoever calls it, urllib never sees (and never echoes) the value."""
    hostile = _hostile_values(world)[case]

    with pytest.raises(SlackError) as caught:
        post_message(hostile, {"text": "hi"}, channel="team:vision", remaining_ms=lambda: 60_000, sleep=Sleeps())

    assert caught.value.status is None and caught.value.attempts == 0
    assert world.slack.received == []
    out, err = capsys.readouterr()
    _assert_clean(logs(), out, err, _exception_text(caught.value))


@pytest.mark.parametrize("where", ["top-level key", "team name"])
def test_a_webhook_pasted_as_a_key_is_named_by_position(
    world: NotifierWorld, logs: Logs, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    hostile = world.slack.url(HOSTILE_PATH)
    if where == "top-level key":
        secret = {**world.secret, hostile: world.url("default")}
        expected = r"keys\[3\]"
    else:
        secret = {**world.secret, "teams": {"vision": world.url("team:vision"), hostile: world.url("default")}}
        expected = r"teams\[1\]"
    _put_secret(world, secret, logs)

    with pytest.raises(ValueError, match=expected) as caught:
        world.invoke(sns_event(make_event()))

    out, err = capsys.readouterr()
    _assert_clean(logs(), out, err, _exception_text(caught.value), _recorded())


def test_a_webhook_given_as_the_secret_name_is_not_echoed(
    world: NotifierWorld, logs: Logs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SECRET_NAME", f"hooks.slack.com{HOSTILE_PATH}")

    with pytest.raises(RuntimeError, match="cannot read secret") as caught:
        world.invoke(sns_event(make_event()))

    out, err = capsys.readouterr()
    _assert_clean(logs(), out, err, _exception_text(caught.value), _recorded())


def test_a_webhook_in_the_settings_is_not_echoed(
    world: NotifierWorld, logs: Logs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_SECRET_NAME")
    monkeypatch.setenv(SETTINGS_ENV_VAR, json.dumps({"notifier": {"slack_secret_name": world.slack.url(HOSTILE_PATH)}}))
    load_settings.cache_clear()

    with pytest.raises(ValueError, match=r"notifier\.slack_secret_name") as caught:
        world.invoke(sns_event(make_event()))

    load_settings.cache_clear()
    out, err = capsys.readouterr()
    _assert_clean(logs(), out, err, _exception_text(caught.value), _recorded())


def test_failures_after_posting_leak_nothing_either(
    world: NotifierWorld, logs: Logs, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ordinary failure paths (429, 5xx, a timeout, a permanent error) with a valid secret, swept the same way."""
    from costwarden.models.alert import Severity

    script_every_failure(world.slack)

    with pytest.raises(DeliveryError) as caught:
        world.invoke(sns_event(make_event(severity=Severity.CRITICAL)))

    assert caught.value.report.posted == ["team:vision"]
    out, err = capsys.readouterr()
    _assert_clean(logs(), out, err, _exception_text(caught.value), _recorded())


def test_the_slack_sdk_logger_redacts_a_scheme_less_path(logs: Logs) -> None:
    """slack_sdk logs urllib's errors verbatim; the filter on the logger it is given hides paths without a scheme."""
    SDK_LOGGER.error(
        f"Failed to send a request to Slack API server: URL can't contain control characters. '{HOSTILE_PATH}  '"
    )
    SDK_LOGGER.error("Failed to send a request to Slack API server: %s", f"hooks.slack.com{HOSTILE_PATH}")

    text = logs()
    assert "Failed to send a request" in text
    _assert_clean(text)
