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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from costwarden.models.alert import AlertEvent, Severity
from costwarden.settings import TeamSettings

DEFAULT_CHANNEL = "default"
ONCALL_CHANNEL = "oncall"
TEAM_PREFIX = "team:"
CHANNEL_PREFIX = "channel:"
_KNOWN_KEYS = frozenset({"default", "oncall", "channels", "teams"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookConfigError(ValueError):
    """The webhook secret has the wrong shape. The message names keys, never values."""


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


def _check_url(value: Any, key: str) -> str:
    """A webhook must be an https URL (plain http only to this machine: the demo and tests)."""
    if not isinstance(value, str) or not value:
        raise WebhookConfigError(f"webhook secret: {key} must be a non-empty URL string")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise WebhookConfigError(f"webhook secret: {key} is not a valid URL") from None
    secure = parts.scheme == "https" and bool(parts.hostname)
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not (secure or local):
        raise WebhookConfigError(f"webhook secret: {key} must be an https:// URL")
    return value


def parse_webhooks(raw: Any) -> Webhooks:
    """Validate the decoded secret; raise ``WebhookConfigError`` naming the offending key (not its value)."""
    if not isinstance(raw, dict):
        raise WebhookConfigError('webhook secret must be a JSON object {"default": url, "oncall": url, "teams": {}}')
    unknown = sorted(str(key) for key in raw if key not in _KNOWN_KEYS)
    if unknown:
        raise WebhookConfigError(f"webhook secret: unknown keys {unknown} (expected default, oncall, channels, teams)")
    if "default" not in raw:
        raise WebhookConfigError("webhook secret: the default webhook is required")
    default = _check_url(raw["default"], "default")
    oncall = _check_url(raw["oncall"], "oncall") if raw.get("oncall") is not None else None
    teams_raw = raw.get("teams") or {}
    if not isinstance(teams_raw, dict):
        raise WebhookConfigError("webhook secret: teams must be an object {team: url}")
    teams = {str(team): _check_url(url, f"teams.{team}") for team, url in teams_raw.items()}
    channels_raw = raw.get("channels") or {}
    if not isinstance(channels_raw, dict):
        raise WebhookConfigError("webhook secret: channels must be an object {channel: url}")
    # Named by position: a URL pasted as a key must not be echoed by the error.
    channels = {
        str(name): _check_url(url, f"channels entry #{position}")
        for position, (name, url) in enumerate(channels_raw.items(), start=1)
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
