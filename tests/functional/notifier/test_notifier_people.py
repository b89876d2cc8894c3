"""People through the deployed path (issue 22): the notifier on moto (state table, both secrets) and the Slack
stand-in (webhooks, ``users.lookupByEmail``, ``conversations.open``, ``chat.postMessage``). Owners given as Slack
ids and as e-mails, the resource's person messaged directly, the daily cap and the opt-out honoured, and no token or
lookup failure ever holding up the channel post."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from costwarden.core.owner import PEOPLE_DETAIL
from costwarden.handlers import notifier
from costwarden.models.alert import AlertKind, Severity
from costwarden.settings import SETTINGS_ENV_VAR, parse_settings

from tests.functional.notifier.support import PATHS, NotifierWorld, function_log_at_debug, make_event, sns_event

APP_SECRET = "costwarden/slack-app-test"
MEMBERS = {"lead@example.com": "U0LEAD001", "alice@example.com": "U0ALICE01"}


def _configure(monkeypatch: pytest.MonkeyPatch, *, token: str | None, **raw: Any) -> None:
    vision = {"owners": ["U0VISION1", "lead@example.com", "S0GROUP01"], **raw.pop("vision", {})}
    settings = parse_settings(
        {"interact": {"enabled": True, "app_secret_name": APP_SECRET}, "teams": {"vision": vision}, **raw}
    )
    monkeypatch.setenv(SETTINGS_ENV_VAR, json.dumps({**json.loads(settings.to_env()), "teams": settings.teams_json()}))
    if token is not None:
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name=APP_SECRET, SecretString=json.dumps({"signing_secret": "s1gning", "bot_token": token})
        )
    notifier.reset_caches()


@pytest.fixture
def members(world: NotifierWorld) -> NotifierWorld:
    world.slack.people.users.update(MEMBERS)
    return world


def _critical(dedup: str = "cost_anomaly#vision#2026-11-25") -> dict[str, Any]:
    return sns_event(make_event(severity=Severity.CRITICAL, dedup_key=dedup), message_id=dedup)


def _expiry(person: str, n: int = 0) -> dict[str, Any]:
    event = make_event(
        kind=AlertKind.EXPIRY_WARNING,
        title=f"ec2:instance i-{n:04d} expires in 15 hours",
        details={"figures": {"Region": "us-east-1"}, PEOPLE_DETAIL: {person: [f"ec2:instance i-{n:04d} (us-east-1)"]}},
        dedup_key=f"expiry#i-{n:04d}#2026-12-08#24",
    )
    return sns_event(event, message_id=f"m-{n}")


def _mention_line(world: NotifierWorld) -> str:
    post = world.slack.accepted(PATHS["team:vision"])[0]
    assert post.body is not None
    return str(post.body["blocks"][1]["text"]["text"])


def test_owners_as_slack_ids_and_emails_are_mentioned_on_critical_alerts(
    members: NotifierWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, token=members.slack.bot_token)

    result = members.invoke(_critical())

    assert result["results"][0]["posted"] == ["team:vision", "oncall"]
    assert _mention_line(members) == "<@U0VISION1> <@U0LEAD001> <!subteam^S0GROUP01>: this needs you."
    (oncall,) = members.slack.accepted(PATHS["oncall"])
    assert "<@" not in oncall.raw
    members.invoke(_critical("cost_anomaly#vision#2026-11-26"))
    assert members.slack.people.calls["users.lookupByEmail"] == 1  # cached in the state table


def test_the_resource_person_gets_a_direct_message_within_the_daily_cap(
    members: NotifierWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(monkeypatch, token=members.slack.bot_token, notifier={"people": {"max_direct_messages_per_day": 2}})

    results = [members.invoke(_expiry("alice@example.com", n))["results"][0] for n in range(3)]

    assert [r.get("direct_messages") for r in results] == [["U0ALICE01"], ["U0ALICE01"], []]
    assert "had 2 direct messages today" in results[2]["people_skipped"][0]
    received = members.slack.people.to("U0ALICE01")
    assert len(received) == 2
    assert received[0]["blocks"][1]["text"]["text"].endswith("• ec2:instance i-0000 (us-east-1)")
    assert len(members.slack.accepted(PATHS["team:vision"])) == 3  # every alert reached the channel


def test_a_team_that_opted_out_is_neither_mentioned_nor_messaged(
    members: NotifierWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(
        monkeypatch, token=members.slack.bot_token, vision={"people": {"mentions": False, "direct_messages": False}}
    )

    members.invoke(_critical())
    members.invoke(_expiry("alice@example.com"))

    assert all("<@" not in post.raw for post in members.slack.accepted())
    assert members.slack.people.direct_messages == [] and not members.slack.people.calls


@pytest.mark.parametrize(
    ("token", "fail", "looked_up"),
    [
        (None, {}, False),  # the app secret does not exist
        ("not-a-bot-token", {}, False),
        ("xoxb-standin-token", {"users.lookupByEmail": "ratelimited"}, False),
        ("xoxb-standin-token", {"conversations.open": "missing_scope"}, True),  # no im:write: no direct message
        ("xoxb-wrong-but-well-formed", {}, False),  # Slack answers invalid_auth
    ],
)
def test_no_token_or_lookup_failure_blocks_the_channel_post(
    members: NotifierWorld, monkeypatch: pytest.MonkeyPatch, token: str | None, fail: dict[str, str], looked_up: bool
) -> None:
    _configure(monkeypatch, token=token)
    members.slack.people.fail.update(fail)

    with function_log_at_debug() as log:
        critical = members.invoke(_critical())["results"][0]
        expiry = members.invoke(_expiry("alice@example.com"))["results"][0]

    assert critical["posted"] == ["team:vision", "oncall"] and not critical["failed"]
    lead = " <@U0LEAD001>" if looked_up else ""  # Slack ids need no lookup: always named
    assert _mention_line(members) == f"<@U0VISION1>{lead} <!subteam^S0GROUP01>: this needs you."
    assert expiry["posted"] == ["team:vision"] and expiry.get("direct_messages", []) == []
    assert members.slack.people.direct_messages == []
    written = log.getvalue()
    assert "people problem" in written
    for secret in (token or "xoxb-", "lead@example.com", "alice@example.com", "s1gning"):
        assert secret not in written
