"""The webhook secret's shape and the routing rules."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.routing import Route, WebhookConfigError, Webhooks, parse_webhooks, routes_for

DEFAULT = "https://hooks.slack.com/services/T0/B0/default-token"
ONCALL = "https://hooks.slack.com/services/T0/B1/oncall-token"
VISION = "https://hooks.slack.com/services/T0/B2/vision-token"


def _event(team: str = "vision", severity: Severity = Severity.WARNING) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind.BUDGET, severity=severity, team=team, title="t", summary="s", dedup_key=f"budget#{team}"
    )


def _hooks(**overrides: Any) -> Webhooks:
    raw: dict[str, Any] = {"default": DEFAULT, "oncall": ONCALL, "teams": {"vision": VISION}}
    raw.update(overrides)
    return parse_webhooks(raw)


def test_team_webhook_when_the_team_has_one() -> None:
    assert routes_for(_event("vision"), _hooks()) == [Route("team:vision", VISION)]


def test_default_webhook_for_other_teams() -> None:
    assert routes_for(_event("speech"), _hooks()) == [Route("default", DEFAULT)]


def test_critical_also_goes_to_oncall_after_the_team() -> None:
    routes = routes_for(_event("vision", Severity.CRITICAL), _hooks())
    assert [r.channel for r in routes] == ["team:vision", "oncall"]
    routes = routes_for(_event("speech", Severity.CRITICAL), _hooks())
    assert [r.channel for r in routes] == ["default", "oncall"]


def test_same_webhook_for_team_and_oncall_is_posted_once() -> None:
    routes = routes_for(_event("vision", Severity.CRITICAL), _hooks(oncall=VISION))
    assert routes == [Route("team:vision", VISION)]


def test_critical_without_an_oncall_webhook_goes_to_the_team_only() -> None:
    hooks = parse_webhooks({"default": DEFAULT})
    assert routes_for(_event("vision", Severity.CRITICAL), hooks) == [Route("default", DEFAULT)]


def test_info_and_warning_never_go_to_oncall() -> None:
    for severity in (Severity.INFO, Severity.WARNING):
        assert all(r.channel != "oncall" for r in routes_for(_event("speech", severity), _hooks()))


def test_routes_and_webhooks_do_not_show_urls_in_their_repr() -> None:
    assert "token" not in repr(routes_for(_event("vision", Severity.CRITICAL), _hooks()))
    assert "token" not in repr(_hooks())


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([DEFAULT], "must be a JSON object"),
        ({"oncall": ONCALL}, "default webhook is required"),
        ({"default": DEFAULT, "team": {}}, r"unknown keys \['team'\]"),
        ({"default": ""}, "default must be a non-empty URL"),
        ({"default": 42}, "default must be a non-empty URL"),
        ({"default": "http://hooks.slack.com/services/T0/B0/default-token"}, "default must be an https:// URL"),
        ({"default": DEFAULT, "oncall": "hooks.slack.com/oncall-token"}, "oncall must be an https:// URL"),
        ({"default": DEFAULT, "teams": ["vision"]}, "teams must be an object"),
        ({"default": DEFAULT, "teams": {"vision": "ftp://x/vision-token"}}, "teams.vision must be an https:// URL"),
    ],
)
def test_bad_secret_shapes_are_named_without_their_values(raw: Any, message: str) -> None:
    with pytest.raises(WebhookConfigError, match=message) as caught:
        parse_webhooks(raw)
    assert "token" not in str(caught.value)


def test_plain_http_is_accepted_only_on_this_machine() -> None:
    hooks = parse_webhooks({"default": "http://127.0.0.1:8080/services/x", "oncall": "http://localhost:1/y"})
    assert hooks.default == "http://127.0.0.1:8080/services/x"
    with pytest.raises(WebhookConfigError):
        parse_webhooks({"default": "http://10.0.0.5/services/x"})
