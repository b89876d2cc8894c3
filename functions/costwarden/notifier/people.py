"""People, not only channels (issue 22): who an alert names, and who gets it in a direct message. Pure: Slack is a
port (``SlackPeople``), the cache and the daily caps are state-table records.

Two things, both optional and never in the way of the channel post:

* **Mentions.** A critical alert names its team's ``owners`` in the team's channel: Slack user ids as ``<@U...>``,
  user groups as ``<!subteam^S...>``, e-mail addresses as the ``<@U...>`` that ``users.lookupByEmail`` finds. They
  are put into a message at one point, ``with_mentions`` (after the header, and at the front of the notification
  text), whatever the alert kind's own layout; the on-call channel is not pinged with a team's owners.
* **Direct messages.** The expiry warning, idle finding or reap of a resource goes to the resource's person too
  (``details["people"]``, written by the producer through ``core.owner.person_of``): the same message, led by the
  resources that are theirs. Each person at most ``notifier.people.max_direct_messages_per_day`` messages per UTC
  day (slots ``people#dm#<user>#<day>``, sk ``000``, ``001``, ...: one conditional write per slot, so concurrent
  invocations never exceed the cap), each alert at most once per person (``core.publish.send_once`` on the
  delivery record, sk ``dm:<user>``).

A team opts out with ``teams.<team>.people`` (``mentions``, ``direct_messages``); ``notifier.people`` switches
either off fleet-wide. An e-mail's user id is cached in the state table (pk ``people#email#<sha256>``, the address
itself never stored as a key) for ``lookup_cache_days``, an unknown address for a day.

Failures: without the bot token, e-mail owners are not mentioned and nobody is messaged; a lookup that fails leaves
that owner out; a token Slack refuses (``invalid_auth``, ``missing_scope``, ...) stops every further call of the
invocation. Each is a line in ``problems`` (logged by the caller; never an address, never the token), and none
raises: the channel post goes out with or without them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from costwarden.core.owner import PEOPLE_DETAIL, SLACK_USER_ID, person_value
from costwarden.core.publish import Outcome, send_once
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.ports import StateStore
from costwarden.notifier.blocks import MAX_BLOCKS, MAX_TEXT_CHARS, escape, fit_blocks, render_message, truncate
from costwarden.settings import PeopleSettings, TeamPeopleSettings, TeamSettings

#: The alert kinds about one person's resources: these are sent to that person too.
DIRECT_KINDS = frozenset({AlertKind.EXPIRY_WARNING, AlertKind.IDLE, AlertKind.REAPED})
#: Most people one alert messages (each costs up to three Slack calls of up to 3 s).
MAX_PEOPLE_PER_ALERT = 25
#: Resources listed at the top of a direct message; the rest are counted.
MAX_LISTED_RESOURCES = 10
#: Seconds of the invocation kept free: direct messages stop when less is left.
RESERVE_SECONDS = 10.0
#: An address Slack does not know is asked again after this many days (someone may join).
NOT_FOUND_CACHE_DAYS = 1.0
#: Slack's answers that say the token itself cannot work: no further call is made in this invocation.
TOKEN_ERRORS = ("invalid_auth", "not_authed", "missing_scope", "token_revoked", "account_inactive", "no_permission")
_SLACK_GROUP_PREFIX = "S"


class SlackPeople(Protocol):
    """Slack's Web API as the notifier needs it for people (``adapters.slack_web.SlackPeopleApi``)."""

    def user_by_email(self, email: str) -> str | None:
        """The user id of ``email``; None when Slack has no member with it. Raises when Slack cannot answer."""
        ...

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        """Post ``message`` in the bot's direct conversation with ``user``. Raises when it was not posted."""
        ...


def lookup_key(email: str) -> tuple[str, str]:
    """The state-table record of an address's Slack user id: keyed by its SHA-256, never by the address."""
    return f"people#email#{hashlib.sha256(email.encode()).hexdigest()}", "slack"


def masked(person: str) -> str:
    """``a***@example.com`` for an address (what a log line may say), a Slack id as it is."""
    local, at, host = person.partition("@")
    return f"{local[:1]}***@{host}" if at else person


@dataclass
class People:
    """What the notifier knows about people for one invocation: settings, the team directory, Slack (None without
    the bot token; ``unavailable`` says why), the state table, the clock and the time left."""

    settings: PeopleSettings
    teams: Mapping[str, TeamSettings]
    store: StateStore
    slack: SlackPeople | None
    now: datetime
    unavailable: str = "the Slack app's bot token is not configured (interact.enabled is off)"
    #: Seconds left in the invocation (the Lambda context's remaining time); None: no limit (the CLI, tests).
    time_left: Callable[[], float] | None = None
    #: What could not be done, one line each, for the log (no addresses, no tokens).
    problems: list[str] = field(default_factory=list)
    _users: dict[str, str | None] = field(default_factory=dict)

    def team(self, name: str) -> TeamPeopleSettings:
        entry = self.teams.get(name)
        return entry.people if entry is not None else TeamPeopleSettings()

    def resolve(self, person: str) -> str | None:
        """The Slack user id of ``person`` (a user id already, or an address looked up once, cached), else None."""
        if SLACK_USER_ID.fullmatch(person):
            return person
        if person not in self._users:
            try:
                self._users[person] = self._lookup(person)
            except Exception as error:  # the state table (the cache) failing: this person only is left out
                self.problems.append(f"{masked(person)} not looked up: {type(error).__name__}")
                self._users[person] = None
        return self._users[person]

    def _lookup(self, email: str) -> str | None:
        pk, sk = lookup_key(email)
        cached = self.store.get(pk, sk)
        if cached is not None and "user" in cached:
            user = cached["user"]
            return user if isinstance(user, str) and SLACK_USER_ID.fullmatch(user) else None
        if self.slack is None:
            self.problems.append(f"{masked(email)} not looked up: {self.unavailable}")
            return None
        try:
            user = self.slack.user_by_email(email)
        except Exception as error:  # any Slack failure leaves this person out, never the channel post
            self.failed(f"users.lookupByEmail for {masked(email)}", error)
            return None
        if user is not None and not SLACK_USER_ID.fullmatch(user):
            self.problems.append(f"users.lookupByEmail for {masked(email)}: not a Slack user id")
            return None
        days = self.settings.lookup_cache_days if user is not None else NOT_FOUND_CACHE_DAYS
        self.store.put(pk, sk, {"user": user, "looked_up_at": self.now.isoformat()}, ttl_days=days)
        if user is None:
            self.problems.append(f"{masked(email)} is not a member of the Slack workspace")
        return user

    def failed(self, what: str, error: Exception) -> None:
        """Record a Slack failure; one that says the token cannot work stops every further call."""
        reason = str(error) or type(error).__name__
        self.problems.append(f"{what}: {reason}")
        if any(code in reason for code in TOKEN_ERRORS):
            self.slack = None
            self.unavailable = f"Slack refused the bot token ({reason})"

    def out_of_time(self) -> bool:
        return self.time_left is not None and self.time_left() < RESERVE_SECONDS


# -- mentions -------------------------------------------------------------------------------------------------


def mentions(event: AlertEvent, people: People) -> str:
    """``<@U1> <!subteam^S2>`` for a critical alert's team owners (when neither switch is off), else ``""``."""
    entry = people.teams.get(event.team)
    if (
        event.severity is not Severity.CRITICAL
        or entry is None
        or not people.settings.mentions
        or not entry.people.mentions
    ):
        return ""
    names: list[str] = []
    for owner in entry.owners:
        if owner.startswith(_SLACK_GROUP_PREFIX) and "@" not in owner:
            names.append(f"<!subteam^{owner}>")
            continue
        person = person_value(owner)
        user = people.resolve(person) if person is not None else None
        if user is not None:
            names.append(f"<@{user}>")
    return " ".join(dict.fromkeys(names))


def with_mentions(message: dict[str, Any], names: str) -> dict[str, Any]:
    """``message`` naming ``names``: a line after the header (when a block fits) and the front of its text."""
    if not names:
        return message
    line = f"{names}: this needs you."
    blocks = list(message.get("blocks") or [])
    if len(blocks) < MAX_BLOCKS:
        blocks.insert(1 if blocks else 0, {"type": "section", "text": {"type": "mrkdwn", "text": line}})
    return {**message, "text": truncate(f"{line} {message.get('text', '')}", MAX_TEXT_CHARS), "blocks": blocks}


# -- direct messages ------------------------------------------------------------------------------------------


def direct_message(event: AlertEvent, resources: list[str]) -> dict[str, Any]:
    """The alert's own message, led by the person's resources (why it came to them)."""
    message = render_message(event)
    shown = [f"• {escape(' '.join(str(r).split()))[:300]}" for r in resources[:MAX_LISTED_RESOURCES]]
    if len(resources) > MAX_LISTED_RESOURCES:
        shown.append(f"_… and {len(resources) - MAX_LISTED_RESOURCES} more_")
    lead = "You get this because it is about your resource" + ("s" if len(resources) != 1 else "") + ":\n"
    block = {"type": "section", "text": {"type": "mrkdwn", "text": truncate(lead + "\n".join(shown), 3_000)}}
    blocks = list(message["blocks"])
    return {**message, "blocks": fit_blocks([*blocks[:1], block, *blocks[1:]])}


def recipients(event: AlertEvent, people: People) -> dict[str, list[str]]:
    """``{person: [resource, ...]}`` from ``details["people"]``, re-checked (the topic is an input like any other):
    a value that is not a person, or resources that are not a list of strings, are left out."""
    raw = event.details.get(PEOPLE_DETAIL)
    if event.kind not in DIRECT_KINDS or not isinstance(raw, dict):
        return {}
    if not people.settings.direct_messages or not people.team(event.team).direct_messages:
        return {}
    chosen: dict[str, list[str]] = {}
    for value, resources in raw.items():
        person = person_value(value)
        if person is None or not isinstance(resources, list):
            continue
        listed = [r for r in resources if isinstance(r, str)]
        if listed:  # a message must say which resource it is about
            chosen.setdefault(person, []).extend(listed)
    return chosen


@dataclass
class DirectReport:
    """What the direct messages of one alert did: user ids messaged, and why others were not (log lines)."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _CapReachedError(Exception):
    """The person had their day's direct messages (internal: ends the attempt, releases the claim)."""


def _slot_pk(user: str, now: datetime) -> str:
    return f"people#dm#{user}#{now.date().isoformat()}"


def _take_slot(store: StateStore, user: str, now: datetime, cap: int) -> tuple[str, str] | None:
    """One of the day's ``cap`` slots of ``user`` (a conditional write each), or None when all are taken."""
    pk = _slot_pk(user, now)
    for number in range(len(store.query(pk)), cap):
        if store.put_if_absent(pk, f"{number:03d}", {"at": now.isoformat()}, ttl_days=2):
            return pk, f"{number:03d}"
    return None


def send_direct(
    event: AlertEvent, people: People, *, record_pk: str, ttl_days: float, lease: timedelta
) -> DirectReport:
    """Send ``event`` to each of its people once (record ``(record_pk, "dm:<user>")``), within their daily cap."""
    report = DirectReport()
    wanted = recipients(event, people)
    for position, (person, resources) in enumerate(wanted.items()):
        if position >= MAX_PEOPLE_PER_ALERT or people.out_of_time():
            report.skipped.append(f"{len(wanted) - position} more people not messaged: no time or over the limit")
            break
        user = people.resolve(person)
        slack = people.slack
        if user is None or slack is None:
            report.skipped.append(f"{masked(person)}: no Slack user" if user is None else people.unavailable)
            continue

        def publish(message: dict[str, Any], user: str = user, slack: SlackPeople = slack) -> None:
            slot = _take_slot(people.store, user, people.now, people.settings.max_direct_messages_per_day)
            if slot is None:
                raise _CapReachedError
            try:
                slack.direct_message(user, message)
            except Exception:
                people.store.delete(*slot)  # not sent: the slot is the person's again
                raise

        once = send_once(
            direct_message(event, resources),
            key=(record_pk, f"dm:{user}"),
            store=people.store,
            publish=publish,
            ttl_days=ttl_days,
            now=people.now,
            lease=lease,
        )
        if once.outcome is Outcome.SENT:
            report.sent.append(user)
        elif isinstance(once.error, _CapReachedError):
            cap = people.settings.max_direct_messages_per_day
            report.skipped.append(
                f"{user}: had {cap} direct messages today (notifier.people.max_direct_messages_per_day)"
            )
        elif once.error is not None:
            people.failed(f"direct message to {user}", once.error)
            report.skipped.append(f"{user}: {people.problems[-1]}")
        else:
            report.skipped.append(f"{user}: already sent")
    return report
