"""Every destructive or money-moving button carries a valid Slack ``confirm`` dialog (issue 23), over all rendered
blocks of every alert kind that has buttons — each alert built through its real builder, rendered for a team
channel and for on-call — and destructive buttons appear only where the presser's role can use them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from costwarden.bedrock.guard import TeamSpend, Verdict
from costwarden.bedrock.run import alert as bedrock_alert
from costwarden.burn.alerts import Judged, Launch, burn_event
from costwarden.core import episodes
from costwarden.cost.alerts import anomaly_event
from costwarden.idle.alerts import team_alert
from costwarden.idle.model import Finding, Kind
from costwarden.interact.authz import ONCALL_ROUTE
from costwarden.interact.buttons import (
    BUTTONS,
    CONFIRM_BUTTON_MAX,
    CONFIRM_TEXT_MAX,
    CONFIRM_TITLE_MAX,
    CONFIRMED_ACTIONS,
    LONG_KEEP_DAYS,
    action_blocks,
)
from costwarden.interact.payload import decode_button
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.blocks import render_message
from costwarden.notifier.routing import ONCALL_CHANNEL
from costwarden.reaper.alerts import expiry_warning
from costwarden.resources.model import Resource, Warning
from costwarden.settings import parse_settings
from costwarden.unitcost.alerts import regression_event
from costwarden.unitcost.regressions import Regression

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LONG_TEAM = "t" * 180  # hostile: a team name far beyond what a dialog may hold
SETTINGS = parse_settings(
    {
        "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
        "budgets": {"hard_limit": {"nlp": "approve", LONG_TEAM: "approve"}},
        "teams": {team: {"slack": {"launch_roles": [f"{team[:20]}-launcher"]}} for team in ("nlp", LONG_TEAM)},
        "bedrock": {
            "hard_limit": {"nlp": "approve", LONG_TEAM: "approve"},
            "roles": {team: [f"{team[:20]}-bedrock"] for team in ("nlp", LONG_TEAM)},
        },
    }
)
CHANNELS = ("ml-nlp", ONCALL_ROUTE)


def _finding(ident: str, kind: Kind, rtype: str = "ec2:instance", **extra: Any) -> Finding:
    service, _, name = rtype.partition(":")
    arn = f"arn:aws:{service}:us-east-1:123456789012:{'instance' if name == 'instance' else name}/{ident}"
    fields: dict[str, Any] = {"monthly_usd": 140.16, "environment": "development", **extra}
    return Finding(
        arn, ident, rtype, "us-east-1", "nlp", kind, evidence="CPU 1% for 7 days", recommendation="stop it", **fields
    )


def _alerts() -> Iterator[AlertEvent]:
    """One alert of each kind that has buttons, from the builders the capabilities publish with."""
    resource = Resource("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "ec2:instance", "us-east-1", "i-0abc", {})
    warning = Warning(resource, "nlp", "2026-12-08T00:00:00Z", NOW + timedelta(hours=15), 24, "terminate")
    yield expiry_warning(warning, NOW, False, SETTINGS.tags)
    finding = {
        "date": "2026-12-06",
        "severity": "critical",
        "cost_usd": 5200.0,
        "baseline_usd": 1000.0,
        "ratio": 5.2,
        "impact_usd": 4200.0,
        "zscore": 9.1,
    }
    for team in ("nlp", LONG_TEAM):
        for kind in ("alert", "escalate"):
            yield anomaly_event(episodes.Action(kind, f"{team}|training", finding), [], "lifecycle_phase")
    findings = [
        _finding("i-0idle", Kind.IDLE),
        _finding("i-0gpu", Kind.GPU_IDLE, monthly_usd=None),
        _finding("i-0prod", Kind.IDLE, environment="production"),
        _finding("i-0kept", Kind.IDLE, protected=True),
        _finding("i-0" + "x" * 300, Kind.IDLE),  # hostile: an id that cannot fit a dialog title
        _finding("vol-0free", Kind.UNATTACHED, "ec2:volume"),
        _finding("nb-1", Kind.NO_AUTOSTOP, "sagemaker:notebook-instance"),
    ]
    yield team_alert("nlp", findings, SETTINGS.idle, NOW)
    for team in ("nlp", LONG_TEAM):
        spend = TeamSpend(
            team, 250.0, profiles=[f"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{team[:9]}"]
        )
        verdict = Verdict(Severity.CRITICAL, ("250% of the daily budget",), 100.0, None)
        yield bedrock_alert(spend, verdict, day=NOW.date(), mode="approve", now=NOW)
    for team in ("nlp", LONG_TEAM):  # the burn guard's alert: planned, and Extend / Stop for the launch's instances
        resources = tuple(f"ec2:i-0{n:016x}" for n in range(8))
        caller = "arn:aws:sts::123456789012:assumed-role/launcher/alice"
        launch = Launch("e1", NOW, team, "us-east-1", "ec2:instance", "p4d.24xlarge", 8, 262.18, caller, "")
        launch = Launch(**{**launch.__dict__, "account": "123456789012", "resources": resources})
        judged = Judged(team, NOW, 262.18, 800.0, 0.0, Severity.CRITICAL)
        yield burn_event(judged, [launch], unpriced=0, rule="baseline", now=NOW)
    for team in ("nlp", LONG_TEAM):  # an efficiency regression (issue 26): the episode's buttons, no hard limit
        series = "unit:fraud-v3/1k_inferences"
        regression = Regression(
            "2026-12-06",
            team,
            "fraud-v3",
            "1k_inferences",
            series,
            1.36,
            0.68,
            2.0,
            "critical",
            67.92,
            50_000,
            50_000,
            "ml.g5.xlarge",
            "ml.g5.4xlarge",
            "2026-12-06",
        )
        yield regression_event(episodes.Action("alert", f"{team}|{series}", {}), regression)  # fmt: skip


def _rendered() -> list[tuple[AlertEvent, str, dict[str, Any]]]:
    out = []
    for event in _alerts():
        for channel in CHANNELS:
            for block in action_blocks(event, channel, SETTINGS):
                assert block["type"] == "actions" and 1 <= len(block["elements"]) <= 25
                out += [(event, channel, element) for element in block["elements"]]
    return out


def _plain(obj: Any, limit: int) -> str:
    assert isinstance(obj, dict) and obj["type"] == "plain_text", obj
    text = obj["text"]
    assert isinstance(text, str) and 0 < len(text) <= limit, text
    return text


def test_every_kind_with_buttons_is_covered() -> None:
    assert {event.kind for event in _alerts()} == set(BUTTONS)
    assert set(BUTTONS) == {
        AlertKind.EXPIRY_WARNING,
        AlertKind.COST_ANOMALY,
        AlertKind.IDLE,
        AlertKind.BEDROCK,
        AlertKind.BURN_RATE,
        AlertKind.UNIT_COST,
    }


def test_every_destructive_button_carries_a_valid_confirm_dialog() -> None:
    rendered = _rendered()
    checked = set()
    for _event, _channel, element in rendered:
        button = decode_button(element["value"])
        long_keep = button.action == "idle_keep" and button.days >= LONG_KEEP_DAYS
        if element.get("style") == "danger" or button.action in CONFIRMED_ACTIONS or long_keep:
            dialog = element.get("confirm")
            assert isinstance(dialog, dict), f"{button.action} has no confirm"
            _plain(dialog["title"], CONFIRM_TITLE_MAX)
            text = _plain(dialog["text"], CONFIRM_TEXT_MAX)
            _plain(dialog["confirm"], CONFIRM_BUTTON_MAX)
            _plain(dialog["deny"], CONFIRM_BUTTON_MAX)
            assert dialog["style"] == "danger"
            assert "$" in text or "price unknown" in text, text  # the USD at stake
            checked.add(button.action)
        else:
            assert "confirm" not in element, button.action
    assert checked == {"enforce", "planned", "idle_stop", "idle_keep", "bedrock_deny"}


def test_dialogs_name_the_exact_resource_and_amount() -> None:
    by_action: dict[str, list[str]] = {}
    for _event, _channel, element in _rendered():
        if "confirm" in element:
            by_action.setdefault(decode_button(element["value"]).action, []).append(element["confirm"]["text"]["text"])
    assert by_action["idle_stop"][0].startswith("$140/month idle: stops ec2:instance i-0idle (us-east-1).")
    assert any(
        t.startswith("$140/month idle: ec2:instance i-0idle (us-east-1) is left out") for t in by_action["idle_keep"]
    )
    assert any(t.startswith("Spend $5,200 against a usual $1,000") and "team=nlp" in t for t in by_action["enforce"])
    assert any(t.startswith("$5,200 against a usual $1,000 (+$4,200) for nlp|training") for t in by_action["planned"])
    assert any(t.startswith("Idle, price unknown: stops ec2:instance i-0gpu") for t in by_action["idle_stop"])
    assert by_action["bedrock_deny"][0].startswith("Spent today $250 against a daily budget of $100. Denies")


def test_destructive_buttons_only_where_the_role_can_use_them() -> None:
    for _event, channel, element in _rendered():
        button = decode_button(element["value"])
        if button.action in ("enforce", "hold", "bedrock_deny"):
            assert channel == ONCALL_ROUTE, "on-call-only buttons belong to the on-call rendering"
        if button.action == "idle_stop":
            assert button.target.rsplit("/", 1)[-1] not in ("i-0prod", "i-0kept", "vol-0free"), button.target
    stopped = {
        decode_button(e["value"]).target.rsplit("/", 1)[-1] for _, _, e in _rendered() if "idle_stop" in e["value"]
    }
    burned = {f"i-0{n:016x}" for n in range(5)}  # the burn alert's: the largest launch's first five instances
    assert stopped == {"i-0idle", "i-0gpu", "i-0" + "x" * 300, "nb-1", *burned}


def test_the_oncall_route_name_is_the_notifiers() -> None:
    assert ONCALL_ROUTE == ONCALL_CHANNEL


@pytest.mark.parametrize("channel", CHANNELS)
def test_an_idle_alert_with_buttons_stays_within_slacks_50_blocks(channel: str) -> None:
    findings = [_finding(f"i-{n:04d}", Kind.IDLE) for n in range(25)]
    event = team_alert("nlp", findings, SETTINGS.idle, NOW)
    blocks = [*render_message(event)["blocks"], *action_blocks(event, channel, SETTINGS)]
    assert len(blocks) <= 50
