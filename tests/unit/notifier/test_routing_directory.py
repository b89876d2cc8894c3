"""Routing at scale: the team directory names a channel, the secret holds one webhook per channel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.routing import Route, WebhookConfigError, parse_webhooks, routes_for
from costwarden.settings import TeamSettings, parse_settings

DEFAULT = "https://hooks.slack.com/services/T0/B0/default-token"
ONCALL = "https://hooks.slack.com/services/T0/B1/oncall-token"
LEGACY_VISION = "https://hooks.slack.com/services/T0/B2/vision-token"


def _channel_url(n: int) -> str:
    return f"https://hooks.slack.com/services/T0/C{n:02d}/channel-{n:02d}-token"


def _event(team: str, severity: Severity = Severity.WARNING) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.BUDGET, severity=severity, team=team, title="t", summary="s", dedup_key=f"budget#{team}"
    )


#: 1,000 teams sharing 40 channels; team-0007 has no channel, team-0008 names one the secret lacks.
DIRECTORY: dict[str, TeamSettings] = parse_settings(
    {
        "teams": {
            f"team-{n:04d}": {"channel": None if n == 7 else "ml-missing" if n == 8 else f"ml-alerts-{n % 40:02d}"}
            for n in range(1_000)
        }
    }
).teams
SECRET: dict[str, Any] = {
    "default": DEFAULT,
    "oncall": ONCALL,
    "channels": {f"ml-alerts-{n:02d}": _channel_url(n) for n in range(40)},
    "teams": {"team-0007": LEGACY_VISION, "team-0041": LEGACY_VISION},
}


def test_a_thousand_teams_route_through_a_secret_far_below_the_64_kb_cap() -> None:
    webhooks = parse_webhooks(SECRET)
    assert len(json.dumps(SECRET).encode()) < 8 * 1024
    routes = {team: routes_for(_event(team), webhooks, DIRECTORY) for team in DIRECTORY}
    assert routes["team-0041"] == [Route("channel:ml-alerts-01", _channel_url(1))]  # the directory wins
    assert routes["team-0081"] == [Route("channel:ml-alerts-01", _channel_url(1))]  # channels are shared
    shared = {team for team, found in routes.items() if found[0].channel == "channel:ml-alerts-01"}
    assert len(shared) == 25


def test_a_team_without_a_directory_channel_keeps_todays_rules() -> None:
    webhooks = parse_webhooks(SECRET)
    assert routes_for(_event("team-0007"), webhooks, DIRECTORY) == [Route("team:team-0007", LEGACY_VISION)]
    assert routes_for(_event("not-in-directory"), webhooks, DIRECTORY) == [Route("default", DEFAULT)]
    assert routes_for(_event("team-0041"), webhooks) == [Route("team:team-0041", LEGACY_VISION)]  # no directory


def test_a_channel_missing_from_the_secret_falls_back_and_says_why() -> None:
    (route,) = routes_for(_event("team-0008"), parse_webhooks(SECRET), DIRECTORY)
    assert (route.channel, route.url) == ("default", DEFAULT)
    assert route.fallback_reason == "channel 'ml-missing' of team 'team-0008' is not in the webhook secret's channels"
    assert "token" not in repr(route)


def test_critical_goes_to_oncall_once_even_when_oncall_is_the_teams_channel() -> None:
    webhooks = parse_webhooks({**SECRET, "oncall": _channel_url(3)})
    assert routes_for(_event("team-0003", Severity.CRITICAL), webhooks, DIRECTORY) == [
        Route("channel:ml-alerts-03", _channel_url(3))
    ]
    assert [r.channel for r in routes_for(_event("team-0004", Severity.CRITICAL), webhooks, DIRECTORY)] == [
        "channel:ml-alerts-04",
        "oncall",
    ]


def test_todays_secret_shape_still_parses_without_channels() -> None:
    webhooks = parse_webhooks({"default": DEFAULT, "teams": {"vision": LEGACY_VISION}})
    assert webhooks.channels == {}
    assert routes_for(_event("vision"), webhooks, {"vision": TeamSettings(channel="ml-cv")}) == [
        Route("team:vision", LEGACY_VISION, fallback_reason=_reason("ml-cv", "vision"))
    ]


def _reason(channel: str, team: str) -> str:
    return f"channel {channel!r} of team {team!r} is not in the webhook secret's channels"


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        (["ml-cv"], "channels must be an object"),
        ({"ml-cv": DEFAULT, "ml-nlp": "ftp://x/nlp-token"}, r"channels\[1\] must be an https:// URL"),
        ({"https://hooks.slack.com/services/T0/B9/pasted-token": 7}, r"channels\[0\] must be a channel name"),
    ],
)
def test_bad_channels_are_named_by_position_never_by_key_or_value(channels: Any, message: str) -> None:
    with pytest.raises(WebhookConfigError, match=message) as caught:
        parse_webhooks({"default": DEFAULT, "channels": channels})
    assert "token" not in str(caught.value)
