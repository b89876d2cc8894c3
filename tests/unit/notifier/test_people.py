"""notifier.people through ``deliver``: mentions at one point, direct messages once per person within the daily cap,
opt-outs, and no Slack failure (lookup, token, post) ever stopping the channel post. Slack is an in-memory fake of
the ``SlackPeople`` port; the stand-in versions of these run in tests/functional/notifier/test_notifier_people.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.core.owner import PEOPLE_DETAIL
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.delivery import deliver
from costwarden.notifier.people import MAX_PEOPLE_PER_ALERT, People, lookup_key
from costwarden.notifier.routing import ONCALL_CHANNEL, Route
from costwarden.notifier.slack import PostResult
from costwarden.settings import parse_settings

from tests.support.alerts import alert_event

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
ROUTES = [
    Route("team:vision", "https://hooks.slack.com/services/T/B/x"),
    Route(ONCALL_CHANNEL, "https://hooks.slack.com/services/T/B/y"),
]
OWNERS = ["U0VISION1", "lead@example.com", "S0GROUP01", "gone@example.com"]


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append((msg, kwargs.get("extra", {})))

    error = info


@dataclass
class FakeSlack:
    """The ``SlackPeople`` port in memory: members by address, direct messages received, scripted failures."""

    users: dict[str, str] = field(
        default_factory=lambda: {"lead@example.com": "U0LEAD001", "alice@example.com": "U0ALICE01"}
    )
    fail_lookup: Exception | None = None
    fail_message: Exception | None = None
    lookups: list[str] = field(default_factory=list)
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def user_by_email(self, email: str) -> str | None:
        self.lookups.append(email)
        if self.fail_lookup is not None:
            raise self.fail_lookup
        return self.users.get(email)

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        if self.fail_message is not None:
            raise self.fail_message
        self.messages.append((user, message))


@dataclass
class Channels:
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, route: Route, message: dict[str, Any]) -> PostResult:
        self.posts.append((route.channel, message))
        return PostResult(route.channel, 200, 1, 0.0)

    def to(self, channel: str) -> list[dict[str, Any]]:
        return [message for name, message in self.posts if name == channel]


def _people(store: MemoryStateStore, slack: FakeSlack | None, **raw: Any) -> People:
    team = {"owners": OWNERS, **raw.pop("team", {})}
    settings = parse_settings({"teams": {"vision": team}, **raw})
    return People(settings.notifier.people, settings.teams, store, slack, NOW)


def _expiry(people: dict[str, Any], dedup: str = "expiry#arn#2026-12-08#24") -> AlertEvent:
    return alert_event(
        kind=AlertKind.EXPIRY_WARNING,
        details={"figures": {"Region": "us-east-1"}, PEOPLE_DETAIL: people},
        dedup_key=dedup,
    )


def _deliver(
    event: AlertEvent, store: MemoryStateStore, people: People | None, channels: Channels | None = None
) -> Any:
    return deliver(
        event,
        ROUTES[: 2 if event.severity is Severity.CRITICAL else 1],
        post=channels or Channels(),
        store=store,
        log=_Log(),
        people=people,
    )


def test_a_critical_alert_names_owners_by_id_email_and_group_in_the_team_channel_only() -> None:
    store, slack, channels = MemoryStateStore(), FakeSlack(), Channels()
    _deliver(alert_event(severity=Severity.CRITICAL), store, _people(store, slack), channels)

    team = channels.to("team:vision")[0]
    assert team["blocks"][1] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "<@U0VISION1> <@U0LEAD001> <!subteam^S0GROUP01>: this needs you."},
    }
    assert team["text"].startswith("<@U0VISION1> <@U0LEAD001> <!subteam^S0GROUP01>: this needs you. ")
    assert "<@" not in str(channels.to(ONCALL_CHANNEL)[0])  # on-call is not pinged with a team's owners
    assert slack.lookups == ["lead@example.com", "gone@example.com"]


def test_a_warning_names_nobody_and_looks_nobody_up() -> None:
    store, slack, channels = MemoryStateStore(), FakeSlack(), Channels()
    _deliver(alert_event(severity=Severity.WARNING), store, _people(store, slack), channels)
    assert "<@" not in str(channels.posts) and slack.lookups == []


def test_lookups_are_cached_in_the_state_table_and_an_unknown_address_for_a_day() -> None:
    store, slack = MemoryStateStore(), FakeSlack()
    _deliver(alert_event(severity=Severity.CRITICAL, dedup_key="a"), store, _people(store, slack))
    _deliver(alert_event(severity=Severity.CRITICAL, dedup_key="b"), store, _people(store, slack))  # a new invocation
    assert slack.lookups == ["lead@example.com", "gone@example.com"]
    assert store.get(*lookup_key("lead@example.com"))["user"] == "U0LEAD001"  # type: ignore[index]
    assert store.get(*lookup_key("gone@example.com"))["user"] is None  # type: ignore[index]
    assert all("@" not in pk for pk, _ in store.items)  # keyed by the address's hash, never by the address


@pytest.mark.parametrize(
    "opt_out",
    [{"team": {"people": {"mentions": False}}}, {"notifier": {"people": {"mentions": False}}}],
)
def test_mentions_opt_out_per_team_or_fleet(opt_out: dict[str, Any]) -> None:
    store, slack, channels = MemoryStateStore(), FakeSlack(), Channels()
    _deliver(alert_event(severity=Severity.CRITICAL), store, _people(store, slack, **opt_out), channels)
    assert "<@" not in str(channels.posts) and slack.lookups == []


@pytest.mark.parametrize(
    "failure",
    [
        {"slack": None},  # no bot token
        {"fail_lookup": RuntimeError("users.lookupByEmail: ratelimited")},
        {"fail_lookup": TimeoutError()},
        {"fail_lookup": RuntimeError("users.lookupByEmail: invalid_auth")},
    ],
)
def test_no_token_or_lookup_failure_blocks_the_channel_post(failure: dict[str, Any]) -> None:
    store, channels = MemoryStateStore(), Channels()
    slack = None if "slack" in failure else FakeSlack(**failure)
    report = _deliver(alert_event(severity=Severity.CRITICAL), store, _people(store, slack), channels)

    assert report.posted == ["team:vision", ONCALL_CHANNEL] and not report.failed
    assert (
        channels.to("team:vision")[0]["blocks"][1]["text"]["text"]
        == "<@U0VISION1> <!subteam^S0GROUP01>: this needs you."
    )
    assert report.people_skipped == [] and report.as_dict().get("direct_messages") is None


def test_a_refused_token_stops_every_further_call() -> None:
    store, slack = MemoryStateStore(), FakeSlack(fail_lookup=RuntimeError("users.lookupByEmail: invalid_auth"))
    people = _people(store, slack)
    _deliver(alert_event(severity=Severity.CRITICAL), store, people)
    assert slack.lookups == ["lead@example.com"]  # not gone@example.com: the token cannot work
    assert people.slack is None and "invalid_auth" in people.unavailable


def test_an_expiry_warning_is_sent_to_its_person_once_led_by_their_resources() -> None:
    store, slack, channels = MemoryStateStore(), FakeSlack(), Channels()
    event = _expiry(
        {"alice@example.com": ["ec2:instance i-0abc (us-east-1)"], "U0BOB0001": ["ec2:instance i-0b0b (us-east-1)"]}
    )
    report = _deliver(event, store, _people(store, slack), channels)

    assert report.posted == ["team:vision"] and report.direct_messages == ["U0ALICE01", "U0BOB0001"]
    user, message = slack.messages[0]
    assert user == "U0ALICE01"
    assert (
        message["blocks"][1]["text"]["text"]
        == "You get this because it is about your resource:\n• ec2:instance i-0abc (us-east-1)"
    )
    assert message["blocks"][0] == channels.to("team:vision")[0]["blocks"][0]  # the alert's own message after it
    again = _deliver(event, store, _people(store, slack))  # a retry of the record (channels and people recorded)
    assert len(slack.messages) == 2 and again.skipped == ["team:vision"] and again.direct_messages == []


def test_the_daily_cap_per_person_is_honoured_across_alerts() -> None:
    store, slack = MemoryStateStore(), FakeSlack()
    reports = [
        _deliver(
            _expiry({"alice@example.com": [f"r{n}"]}, dedup=f"expiry#{n}"),
            store,
            _people(store, slack, notifier={"people": {"max_direct_messages_per_day": 2}}),
        )
        for n in range(3)
    ]
    assert [r.direct_messages for r in reports] == [["U0ALICE01"], ["U0ALICE01"], []]
    assert reports[2].people_skipped == [
        "U0ALICE01: had 2 direct messages today (notifier.people.max_direct_messages_per_day)"
    ]
    assert reports[2].posted == ["team:vision"]  # the channel has it


def test_a_failed_direct_message_frees_its_slot_and_never_fails_the_delivery() -> None:
    store, slack = MemoryStateStore(), FakeSlack(fail_message=RuntimeError("chat.postMessage: channel_not_found"))
    report = _deliver(_expiry({"alice@example.com": ["r1"]}), store, _people(store, slack))
    assert report.posted == ["team:vision"] and report.direct_messages == []
    assert report.people_skipped == ["U0ALICE01: direct message to U0ALICE01: chat.postMessage: channel_not_found"]
    assert not [key for key in store.items if key[0].startswith("people#dm#")]  # the slot was given back
    slack.fail_message = None
    assert _deliver(_expiry({"alice@example.com": ["r1"]}), store, _people(store, slack)).direct_messages == [
        "U0ALICE01"
    ]


@pytest.mark.parametrize(
    "opt_out",
    [{"team": {"people": {"direct_messages": False}}}, {"notifier": {"people": {"direct_messages": False}}}],
)
def test_direct_messages_opt_out_per_team_or_fleet(opt_out: dict[str, Any]) -> None:
    store, slack = MemoryStateStore(), FakeSlack()
    report = _deliver(_expiry({"alice@example.com": ["r1"]}), store, _people(store, slack, **opt_out))
    assert slack.messages == [] and slack.lookups == [] and report.posted == ["team:vision"]


@pytest.mark.parametrize(
    "people",
    [
        {"<!channel>": ["r1"]},
        {"alice@example.com": "r1"},  # not a list
        {"alice@example.com": [{"nested": True}]},
        ["alice@example.com"],
        "alice@example.com",
    ],
)
def test_hostile_people_details_message_nobody(people: Any) -> None:
    store, slack = MemoryStateStore(), FakeSlack()
    report = _deliver(_expiry(people), store, _people(store, slack))
    assert report.posted == ["team:vision"]
    assert slack.messages == [] and slack.lookups == []


def test_kinds_about_no_one_resource_are_not_sent_to_people() -> None:
    store, slack = MemoryStateStore(), FakeSlack()
    event = alert_event(kind=AlertKind.BUDGET, details={PEOPLE_DETAIL: {"alice@example.com": ["r1"]}})
    _deliver(event, store, _people(store, slack))
    assert slack.messages == []


def test_at_most_so_many_people_per_alert() -> None:
    store, slack = MemoryStateStore(), FakeSlack(users={})
    many = {f"U{n:08d}": ["r"] for n in range(MAX_PEOPLE_PER_ALERT + 5)}
    report = _deliver(_expiry(many), store, _people(store, slack))
    assert len(report.direct_messages) == MAX_PEOPLE_PER_ALERT
    assert report.people_skipped == ["5 more people not messaged: no time or over the limit"]


class _BrokenCache(MemoryStateStore):
    """A state table that fails on the people records (throttled, say): the channels must not notice."""

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        if pk.startswith("people#"):
            raise RuntimeError("ProvisionedThroughputExceededException")
        return super().get(pk, sk)

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        raise RuntimeError("ProvisionedThroughputExceededException")


def test_a_failing_state_table_on_the_people_path_never_blocks_the_channel_post() -> None:
    store, slack, channels = _BrokenCache(), FakeSlack(), Channels()
    critical = _deliver(alert_event(severity=Severity.CRITICAL), store, _people(store, slack), channels)
    expiry = _deliver(_expiry({"U0ALICE01": ["r1"]}), store, _people(store, slack), channels)
    assert critical.posted == ["team:vision", ONCALL_CHANNEL] and expiry.posted == ["team:vision"]
    assert (
        channels.to("team:vision")[0]["blocks"][1]["text"]["text"]
        == "<@U0VISION1> <!subteam^S0GROUP01>: this needs you."
    )
    assert slack.messages == []  # the daily cap could not be read: nobody is messaged over it
