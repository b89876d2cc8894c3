"""The burn alert's buttons and the hard limit on the rate: It was planned on the episode, Extend / Stop for the
launch's instances (never Stop in production), and a critical burn alert of an opted-in team gets the daily limit's
approve (Enforce for on-call) and auto (the grace timer) flow through the same episode key."""

from __future__ import annotations

from datetime import UTC, datetime

from costwarden.burn.alerts import Judged, Launch, burn_event, short_caller
from costwarden.interact.authz import ONCALL_ROUTE
from costwarden.interact.buttons import action_blocks
from costwarden.interact.hardlimit_timer import _critical_series
from costwarden.interact.payload import decode_button
from costwarden.models.alert import AlertEvent, Severity
from costwarden.settings import Settings, parse_settings

NOW = datetime(2026, 12, 7, 9, 3, tzinfo=UTC)
CALLER = "arn:aws:sts::123456789012:assumed-role/launcher/alice"


def alert(severity: Severity = Severity.CRITICAL, environment: str = "development") -> AlertEvent:
    resources = tuple(f"ec2:i-0{n:016x}" for n in range(8))
    tags = {"team": "nlp", "environment": environment}
    launch = Launch("e1", NOW, "nlp", "us-east-1", "ec2:instance", "p4d.24xlarge", 8, 262.18, CALLER, "")
    launch = Launch(**{**launch.__dict__, "account": "123456789012", "resources": resources, "tags": tags})
    return burn_event(Judged("nlp", NOW, 262.18, 800.0, 0.0, severity), [launch], unpriced=0, rule="r", now=NOW)


def settings(mode: str = "approve") -> Settings:
    interact = {"enabled": True, "oncall_users": ["U0ONCALL1"]}
    teams = {"nlp": {"slack": {"launch_roles": ["nlp-launcher"]}}}
    return parse_settings({"interact": interact, "budgets": {"hard_limit": {"nlp": mode}}, "teams": teams})


def buttons(event: AlertEvent, channel: str) -> list[tuple[str, str]]:
    found = []
    for block in action_blocks(event, channel, settings()):
        for element in block["elements"]:
            button = decode_button(element["value"])
            found.append((button.action, button.target))
    return found


def test_the_team_channel_gets_planned_extend_and_stop() -> None:
    offered = buttons(alert(), "ml-nlp")
    assert offered[0] == ("planned", "nlp|")
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000000"
    assert ("extend", arn) in offered and ("idle_stop", arn) in offered
    assert [a for a, _ in offered].count("idle_stop") == 5  # the first five instances, one actions block each
    assert "enforce" not in {a for a, _ in offered}  # the hard limit is on-call's


def test_never_stop_in_production() -> None:
    assert "idle_stop" not in {a for a, _ in buttons(alert(environment="production"), "ml-nlp")}


def test_on_call_gets_the_hard_limit_on_the_rate() -> None:
    assert ("enforce", "nlp|") in buttons(alert(), ONCALL_ROUTE)
    assert "enforce" not in {a for a, _ in buttons(alert(Severity.WARNING), ONCALL_ROUTE)}


def test_auto_arms_the_grace_timer_on_the_same_episode() -> None:
    assert _critical_series(alert(), settings("auto")) == "nlp|"
    assert _critical_series(alert(Severity.WARNING), settings("auto")) is None
    assert _critical_series(alert(), settings("approve")) is None  # approve: on-call presses Enforce


def test_short_caller() -> None:
    assert short_caller(CALLER) == "alice (launcher)"
    assert short_caller("arn:aws:iam::123456789012:user/bob") == "bob"
    assert short_caller("not an arn") == "not an arn"
