"""Webhook URLs are credentials: they must not appear in any log line, at any level, or in stdout/stderr."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.models.alert import Severity
from costwarden.notifier import slack as slack_adapter
from costwarden.notifier.delivery import DeliveryError
from costwarden.redaction import REDACTED
from slack_sdk.webhook import WebhookClient

from tests.functional.notifier.support import (
    PATHS,
    NotifierWorld,
    function_log_at_debug,
    make_event,
    script_every_failure,
    sns_event,
)


@pytest.fixture
def function_log() -> Iterator[io.StringIO]:
    """The Powertools logger's JSON output (it writes to the stdout it saw at import), at DEBUG."""
    with function_log_at_debug() as buffer:
        yield buffer


def _secrets(world: NotifierWorld) -> list[str]:
    """Each full webhook URL and, separately, each path (the token part is the secret)."""
    urls = [world.url(channel) for channel in PATHS]
    return urls + [urlsplit(url).path for url in urls]


def _run_every_path_that_logs(world: NotifierWorld) -> None:
    script_every_failure(world.slack)
    with pytest.raises(DeliveryError):
        world.invoke(sns_event(make_event(severity=Severity.CRITICAL)))


def test_webhook_url_is_absent_from_logs_at_debug(
    world: NotifierWorld,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    function_log: io.StringIO,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_sdk")

    _run_every_path_that_logs(world)

    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err, function_log.getvalue()])
    # The logs did record what happened (so the assertions below look at real output)...
    assert "team:vision" in function_log.getvalue()
    assert "invalid_payload" in function_log.getvalue()
    assert "posted to slack" in function_log.getvalue()
    assert len(world.slack.posts_to(PATHS["team:vision"])) == 4
    # ...and none of it names a webhook.
    for secret in _secrets(world):
        assert secret not in everything


def test_slack_sdk_logger_forced_to_debug_is_still_redacted(
    world: NotifierWorld, caplog: pytest.LogCaptureFixture, function_log: io.StringIO
) -> None:
    """Defence in depth: even if someone turns our slack_sdk logger up to DEBUG, its lines carry no URL."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=slack_adapter.SDK_LOGGER.name)

    _run_every_path_that_logs(world)

    sdk_lines = [r.getMessage() for r in caplog.records if r.name == slack_adapter.SDK_LOGGER.name]
    assert any("Sending a request" in line for line in sdk_lines)  # slack_sdk did log at DEBUG
    assert any(REDACTED in line for line in sdk_lines)
    for secret in _secrets(world):
        assert secret not in caplog.text


def test_canary_plain_slack_sdk_would_leak_the_url(slack: SlackStandIn, caplog: pytest.LogCaptureFixture) -> None:
    """Why the above matters: slack_sdk's default logger writes the full webhook URL at DEBUG."""
    caplog.set_level(logging.DEBUG)
    url = slack.url(PATHS["default"])

    WebhookClient(url).send(text="hello")

    assert url in caplog.text
