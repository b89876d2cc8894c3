"""The webhook secret's shape and the routing rules."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.routing import (
    Route,
    WebhookAllowance,
    WebhookConfigError,
    Webhooks,
    parse_webhooks,
    routes_for,
)

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
        ({"default": DEFAULT, "team": {}}, r"keys\[1\] is not a known key"),
        ({"default": ""}, "default must be a non-empty URL"),
        ({"default": 42}, "default must be a non-empty URL"),
        ({"default": "http://hooks.slack.com/services/T0/B0/default-token"}, "default must be an https:// URL"),
        ({"default": DEFAULT, "oncall": "hooks.slack.com/oncall-token"}, "oncall must be an https:// URL"),
        ({"default": DEFAULT, "teams": ["vision"]}, "teams must be an object"),
        ({"default": DEFAULT, "teams": {"vision": "ftp://x/vision-token"}}, r"teams\[0\] must be an https:// URL"),
    ],
)
def test_bad_secret_shapes_are_named_without_their_values(raw: Any, message: str) -> None:
    with pytest.raises(WebhookConfigError, match=message) as caught:
        parse_webhooks(raw)
    assert "token" not in str(caught.value)


# -- strict webhook values (issue 9: "Secrets stay secret") ---------------------------------------------------

TOKEN = "s3cr3tPastedToken"
HOOK = f"https://hooks.slack.com/services/T0/B0/{TOKEN}"


@pytest.mark.parametrize(
    "value",
    [
        f"{HOOK}  # vision",  # a comment pasted with the URL
        f"{HOOK}\n",  # a trailing line break
        f" {HOOK}",
        f"https://hooks.slack.com/services/T0/B0/s3cr3t\x07{TOKEN}",  # a control character inside
        f"https://hooks.slack.com/services/T0/B0/\t{TOKEN}",
        f"{HOOK}\x00",
        f"{HOOK}\u00a0",  # a no-break space from a chat client
        f"{HOOK}\u200b",  # a zero-width space
        f"https://hooks.slack.com/services/T0/B0/{TOKEN}\u00e9",
    ],
    ids=["comment", "newline", "leading-space", "bell", "tab", "nul", "nbsp", "zero-width", "non-ascii"],
)
def test_whitespace_control_and_non_ascii_characters_are_refused_without_echo(value: str) -> None:
    with pytest.raises(WebhookConfigError, match="whitespace, control or non-ASCII") as caught:
        parse_webhooks({"default": DEFAULT, "teams": {"vision": value}})
    assert "teams[0]" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"http://hooks.slack.com/services/T0/B0/{TOKEN}", "must be an https:// URL"),
        (f"hooks.slack.com/services/T0/B0/{TOKEN}", "must be an https:// URL"),
        (f"https://hooks.example.com/services/T0/B0/{TOKEN}", "hooks.slack.com or hooks.slack-gov.com"),
        (f"https://hooks.slack.com.evil.example/services/T0/B0/{TOKEN}", "hooks.slack.com or hooks.slack-gov.com"),
        (f"https://user:{TOKEN}@hooks.slack.com/services/T0/B0/x", "hooks.slack.com or hooks.slack-gov.com"),
        (f"https://hooks.slack.com:8443/services/T0/B0/{TOKEN}", "hooks.slack.com or hooks.slack-gov.com"),
        (f"https://hooks.slack.com/api/T0/B0/{TOKEN}", "/services/"),
        ("https://hooks.slack.com/services/", "/services/"),
        (f"https://hooks.slack.com/services/T0/B0/{TOKEN}?x=1", "/services/"),
        (f"https://hooks.slack.com/services/T0/B0/{TOKEN}#vision", "/services/"),
        (f"https://hooks.slack.com/services/T0/../{TOKEN}", "/services/"),
        (f"https://127.0.0.1:8080/services/T0/B0/{TOKEN}", "hooks.slack.com or hooks.slack-gov.com"),
        (f"http://localhost:8080/services/T0/B0/{TOKEN}", "must be an https:// URL"),
        (f"https://[::1/services/{TOKEN}", "not a valid URL"),
    ],
)
def test_only_slack_webhook_urls_are_accepted(value: str, message: str) -> None:
    with pytest.raises(WebhookConfigError, match=message) as caught:
        parse_webhooks({"default": value})
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack-gov.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/workflows/T00000000/A00000000/123456789012345678/abcdefABCDEF0123",
        "https://hooks.slack.com/triggers/T00000000/1234567890123/0123456789abcdef0123456789abcdef",
        "https://HOOKS.slack.com/services/T0/B0/x",
        "https://hooks.slack.com:443/services/T0/B0/x",
    ],
)
def test_slack_webhook_shapes_are_accepted(value: str) -> None:
    assert parse_webhooks({"default": value}).default == value


def test_url_pasted_as_a_key_is_named_by_position() -> None:
    with pytest.raises(WebhookConfigError, match=r"keys\[1\]") as caught:
        parse_webhooks({"default": DEFAULT, HOOK: DEFAULT})
    assert TOKEN not in str(caught.value)
    assert "expected default, oncall, channels, teams" in str(caught.value)


def test_url_pasted_as_a_team_name_is_named_by_position() -> None:
    with pytest.raises(WebhookConfigError, match=r"teams\[1\]") as caught:
        parse_webhooks({"default": DEFAULT, "teams": {"vision": VISION, HOOK: "x"}})
    assert TOKEN not in str(caught.value)


def test_team_names_are_tag_values_with_spaces_and_any_script() -> None:
    hooks = parse_webhooks({"default": DEFAULT, "teams": {"Data Science": VISION, "équipe-vision": ONCALL}})
    assert set(hooks.teams) == {"Data Science", "équipe-vision"}
    for bad in (" vision", "vision\n", "", "T0000000/B0000000/abc"):
        with pytest.raises(WebhookConfigError, match=r"teams\[0\] must be a team name"):
            parse_webhooks({"default": DEFAULT, "teams": {bad: VISION}})


def test_team_errors_name_the_position_not_the_team() -> None:
    with pytest.raises(WebhookConfigError, match=r"teams\[2\]") as caught:
        parse_webhooks({"default": DEFAULT, "teams": {"a": VISION, "b": VISION, f"team-{TOKEN}": 42}})
    assert TOKEN not in str(caught.value)


def test_loopback_needs_an_explicit_allowance_for_its_exact_origin() -> None:
    local = "http://127.0.0.1:8080/services/T0/B0/x"
    with pytest.raises(WebhookConfigError, match="must be an https:// URL"):
        parse_webhooks({"default": local})

    allowance = WebhookAllowance.loopback("http://127.0.0.1:8080")
    assert parse_webhooks({"default": local, "oncall": "http://127.0.0.1:8080/hook"}, allowance).default == local
    # Only that origin: another port, another scheme or another loopback name is still refused.
    for other in ("http://127.0.0.1:8081/x", "https://127.0.0.1:8080/x", "http://localhost:8080/x"):
        with pytest.raises(WebhookConfigError):
            parse_webhooks({"default": other}, allowance)
    # Allowed origins still get the character check.
    with pytest.raises(WebhookConfigError, match="whitespace"):
        parse_webhooks({"default": local + "  # vision"}, allowance)


@pytest.mark.parametrize(
    "origin",
    [
        "http://10.0.0.5:8080",  # not this machine
        "https://hooks.example.com",
        "http://127.0.0.1",  # no port: an exact origin is required
        "http://127.0.0.1:8080/services",  # an origin, not a URL
        "http://user@127.0.0.1:8080",
        "ftp://127.0.0.1:21",
    ],
)
def test_an_allowance_is_for_loopback_origins_only(origin: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        WebhookAllowance.loopback(origin)
