"""Which Slack webhooks an alert goes to. Pure: the secret's JSON in, (channel name, URL) pairs out.

The secret (Secrets Manager, referenced by name) holds::

    {"default":  "https://hooks.slack.com/services/...",     # required: teams without their own channel
     "oncall":   "https://hooks.slack.com/services/...",     # optional: critical alerts also go here
     "channels": {"ml-vision": "https://hooks.slack.com/..."},  # optional: one webhook per Slack channel
     "teams":    {"vision": "https://hooks.slack.com/..."}}  # optional, the older shape: one webhook per team

The team directory (``Settings.teams``, ``teams.<team>.channel``) says which channel a team's alerts go to; many
teams share a channel, so the secret holds one URL per channel and stays far below Secrets Manager's 64 KB for
any number of teams (one URL per team, the older ``teams`` shape, stops at a few hundred).

Rules: a team's alerts go to its directory channel (``channels.<channel>``), else to its own ``teams.<team>``
webhook, else to ``default``. A directory channel missing from the secret falls back the same way (the alert is
delivered, and the route says why, for the handler to log): an alert is never dropped over routing. Critical
alerts also go to ``oncall`` (once, if it is the same webhook). Channel names (``channel:ml-vision``,
``team:vision``, ``default``, ``oncall``) are what logs, metrics and the state table see: webhook URLs are
credentials, so they never appear in an error message or a log line.

Values are validated strictly (issue 9): printable ASCII only (a pasted comment, line break or control character
would otherwise reach urllib, which echoes the URL's path in its error), ``https`` only, on Slack's webhook hosts
with a webhook path. The local Slack stand-in is reached only through an explicit ``WebhookAllowance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from costwarden.core.slack_urls import (
    SLACK_PATH,
    SLACK_WEBHOOK_HOSTS,
    UNSAFE_VALUE,
    WebhookAllowance,
    WebhookConfigError,
    _split,
    has_unsafe_characters,
)
from costwarden.models.alert import AlertEvent, Severity
from costwarden.redaction import redact
from costwarden.settings import TeamSettings

DEFAULT_CHANNEL = "default"
ONCALL_CHANNEL = "oncall"
TEAM_PREFIX = "team:"
CHANNEL_PREFIX = "channel:"
_KNOWN_KEYS = ("default", "oncall", "channels", "teams")


@dataclass(frozen=True)
class Route:
    channel: str
    url: str = field(repr=False)  # never in a repr, so never in a log line or a traceback's locals
    #: Why this route is a fallback (the team's directory channel is not in the secret); ``None`` when it is not.
    fallback_reason: str | None = None


@dataclass(frozen=True)
class Webhooks:
    default: str = field(repr=False)
    oncall: str | None = field(default=None, repr=False)
    teams: dict[str, str] = field(default_factory=dict, repr=False)
    channels: dict[str, str] = field(default_factory=dict, repr=False)


def _check_url(value: Any, key: str, allowance: WebhookAllowance) -> str:
    """A Slack webhook URL: https on Slack's hosts with a webhook path, or an origin the allowance names.

    ``key`` names where the value sits (``default``, ``teams[3]``): the message never includes the value.
    """
    if not isinstance(value, str) or not value:
        raise WebhookConfigError(f"webhook secret: {key} must be a non-empty URL string")
    if has_unsafe_characters(value):
        raise WebhookConfigError(f"webhook secret: {key} {UNSAFE_VALUE}")
    parts, port = _split(value)
    if parts is None:  # raised here, not in an ``except``: urllib's error quotes the URL (e.g. its port)
        raise WebhookConfigError(f"webhook secret: {key} is not a valid URL")
    if allowance.allows(parts) and not parts.username:
        return value
    if parts.scheme != "https":
        raise WebhookConfigError(f"webhook secret: {key} must be an https:// URL")
    if parts.hostname not in SLACK_WEBHOOK_HOSTS or port not in (None, 443) or "@" in parts.netloc:
        raise WebhookConfigError(
            f"webhook secret: {key} must be a Slack webhook on hooks.slack.com or hooks.slack-gov.com"
        )
    if not SLACK_PATH.fullmatch(parts.path) or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise WebhookConfigError(
            f"webhook secret: {key} must be a Slack webhook path: /services/..., /workflows/... or /triggers/..."
        )
    return value


def _check_team_name(name: str, key: str, kind: str = "a team name (the team tag's value)") -> str:
    """A team name is a tag value (spaces and letters of any script allowed), not a URL or token pasted as a key.

    Refused by position, never echoed. Control characters and leading/trailing blanks are refused too: such a name
    could never match a team tag anyway.
    """
    if not name or not name.isprintable() or name.strip() != name or redact(name) != name:
        raise WebhookConfigError(f"webhook secret: {key} must be {kind}, not a URL, a credential or blank")
    return name


def parse_webhooks(raw: Any, allowance: WebhookAllowance | None = None) -> Webhooks:
    """Validate the decoded secret; raise ``WebhookConfigError`` naming the offending key by position.

    Keys are named by position (``keys[3]``, ``teams[2]``), never by their text: a URL pasted as a key is as secret
    as one pasted as a value. ``allowance`` admits the local stand-in's origin (tests and the demo only).
    """
    allowance = allowance or WebhookAllowance()
    if not isinstance(raw, dict):
        raise WebhookConfigError('webhook secret must be a JSON object {"default": url, "oncall": url, "teams": {}}')
    for position, key in enumerate(raw):
        if key not in _KNOWN_KEYS:
            raise WebhookConfigError(
                f"webhook secret: keys[{position}] is not a known key (expected {', '.join(_KNOWN_KEYS)})"
            )
    if "default" not in raw:
        raise WebhookConfigError("webhook secret: the default webhook is required")
    default = _check_url(raw["default"], "default", allowance)
    oncall = _check_url(raw["oncall"], "oncall", allowance) if raw.get("oncall") is not None else None
    teams_raw = raw.get("teams") or {}
    if not isinstance(teams_raw, dict):
        raise WebhookConfigError("webhook secret: teams must be an object {team: url}")
    teams = {
        _check_team_name(str(team), f"teams[{position}]"): _check_url(teams_raw[team], f"teams[{position}]", allowance)
        for position, team in enumerate(teams_raw)
    }
    channels_raw = raw.get("channels") or {}
    if not isinstance(channels_raw, dict):
        raise WebhookConfigError("webhook secret: channels must be an object {channel: url}")
    channels = {
        _check_team_name(str(name), f"channels[{position}]", "a channel name"): _check_url(
            channels_raw[name], f"channels[{position}]", allowance
        )
        for position, name in enumerate(channels_raw)
    }
    return Webhooks(default=default, oncall=oncall, teams=teams, channels=channels)


def team_route(team: str, webhooks: Webhooks, directory: Mapping[str, TeamSettings] | None = None) -> Route:
    """Where ``team``'s alerts go: its directory channel, else its own ``teams`` webhook, else ``default``."""
    entry = directory.get(team) if directory else None
    wanted = entry.channel if entry is not None else None
    if wanted is not None and wanted in webhooks.channels:
        return Route(f"{CHANNEL_PREFIX}{wanted}", webhooks.channels[wanted])
    reason = None if wanted is None else f"channel {wanted!r} of team {team!r} is not in the webhook secret's channels"
    if team in webhooks.teams:
        return Route(f"{TEAM_PREFIX}{team}", webhooks.teams[team], fallback_reason=reason)
    return Route(DEFAULT_CHANNEL, webhooks.default, fallback_reason=reason)


def routes_for(
    event: AlertEvent, webhooks: Webhooks, directory: Mapping[str, TeamSettings] | None = None
) -> list[Route]:
    """The channels ``event`` goes to, in posting order (the team's channel first), each webhook once.

    ``directory`` is the team directory (``Settings.teams``); without it teams route by the secret alone.
    """
    routes = [team_route(event.team, webhooks, directory)]
    if event.severity is Severity.CRITICAL and webhooks.oncall and all(r.url != webhooks.oncall for r in routes):
        routes.append(Route(ONCALL_CHANNEL, webhooks.oncall))
    return routes
