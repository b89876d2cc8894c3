"""Which Slack webhooks an alert goes to. Pure: the secret's JSON in, (channel name, URL) pairs out.

The secret (Secrets Manager, referenced by name) holds::

    {"default": "https://hooks.slack.com/services/...",      # required: teams without their own channel
     "oncall":  "https://hooks.slack.com/services/...",      # optional: critical alerts also go here
     "teams":   {"vision": "https://hooks.slack.com/..."}}   # optional: a team's own channel

Rules: a team's alerts go to its own webhook, else to ``default``; critical alerts also go to ``oncall`` (once, if
it is the same webhook). Channel names (``team:vision``, ``default``, ``oncall``) are what logs, metrics and the
state table see: webhook URLs are credentials, so they never appear in an error message or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from costwarden.models.alert import AlertEvent, Severity

DEFAULT_CHANNEL = "default"
ONCALL_CHANNEL = "oncall"
TEAM_PREFIX = "team:"
_KNOWN_KEYS = frozenset({"default", "oncall", "teams"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookConfigError(ValueError):
    """The webhook secret has the wrong shape. The message names keys, never values."""


@dataclass(frozen=True)
class Route:
    channel: str
    url: str = field(repr=False)  # never in a repr, so never in a log line or a traceback's locals


@dataclass(frozen=True)
class Webhooks:
    default: str = field(repr=False)
    oncall: str | None = field(default=None, repr=False)
    teams: dict[str, str] = field(default_factory=dict, repr=False)


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
        raise WebhookConfigError(f"webhook secret: unknown keys {unknown} (expected default, oncall, teams)")
    if "default" not in raw:
        raise WebhookConfigError("webhook secret: the default webhook is required")
    default = _check_url(raw["default"], "default")
    oncall = _check_url(raw["oncall"], "oncall") if raw.get("oncall") is not None else None
    teams_raw = raw.get("teams") or {}
    if not isinstance(teams_raw, dict):
        raise WebhookConfigError("webhook secret: teams must be an object {team: url}")
    teams = {str(team): _check_url(url, f"teams.{team}") for team, url in teams_raw.items()}
    return Webhooks(default=default, oncall=oncall, teams=teams)


def routes_for(event: AlertEvent, webhooks: Webhooks) -> list[Route]:
    """The channels ``event`` goes to, in posting order (the team's channel first), each webhook once."""
    if event.team in webhooks.teams:
        routes = [Route(f"{TEAM_PREFIX}{event.team}", webhooks.teams[event.team])]
    else:
        routes = [Route(DEFAULT_CHANNEL, webhooks.default)]
    if event.severity is Severity.CRITICAL and webhooks.oncall and all(r.url != webhooks.oncall for r in routes):
        routes.append(Route(ONCALL_CHANNEL, webhooks.oncall))
    return routes
