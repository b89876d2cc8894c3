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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from costwarden.models.alert import AlertEvent, Severity
from costwarden.redaction import redact
from costwarden.settings import TeamSettings

DEFAULT_CHANNEL = "default"
ONCALL_CHANNEL = "oncall"
TEAM_PREFIX = "team:"
CHANNEL_PREFIX = "channel:"
_KNOWN_KEYS = ("default", "oncall", "channels", "teams")
#: Where Slack serves incoming webhooks (commercial and GovSlack).
SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
#: Incoming webhooks (``/services/T…/B…/…``), Workflow Builder webhooks (``/workflows/…``) and triggers
#: (``/triggers/…``): two or more plain segments after the kind, nothing else (no ``..``, query or fragment).
_SLACK_PATH = re.compile(r"/(?:services|workflows|triggers)(?:/[A-Za-z0-9_\-]+){2,}")
#: A webhook URL is printable ASCII without spaces. Anything else — a comment or a line break pasted with it, a
#: no-break space from a chat client, a control character — is refused before urllib can echo it in an error.
_URL_CHARACTERS = re.compile(r"[\x21-\x7e]+")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_UNSAFE_VALUE = "has whitespace, control or non-ASCII characters (a comment or a line break pasted with the URL?)"


class WebhookConfigError(ValueError):
    """The webhook secret has the wrong shape. The message names keys by position, never a key's or a URL's text."""


def has_unsafe_characters(url: str) -> bool:
    """True when ``url`` holds anything but printable ASCII without spaces (the rule ``post_message`` checks too)."""
    return _URL_CHARACTERS.fullmatch(url) is None


def _split(value: str) -> tuple[SplitResult | None, int | None]:
    """``value`` split, and its port; ``(None, None)`` when urllib cannot parse it."""
    try:
        parts = urlsplit(value)
        return parts, parts.port
    except ValueError:
        return None, None


def _is_loopback_origin(parts: SplitResult, port: int | None) -> bool:
    """``http(s)://<loopback host>:<port>`` and nothing more (no user, path, query or fragment)."""
    bare = "@" not in parts.netloc and parts.path in ("", "/") and not parts.query and not parts.fragment
    return bare and parts.scheme in ("http", "https") and port is not None and parts.hostname in _LOOPBACK_HOSTS


def _origin(parts: SplitResult) -> str:
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class WebhookAllowance:
    """Origins besides Slack's that webhooks may name: the local Slack stand-in of the tests and the demo.

    Explicit and narrow on purpose. It is granted in code by whoever starts a stand-in (the demo runner, a test
    fixture: ``handlers.notifier.webhook_allowance``), never by configuration, so no secret or environment of a
    deployed notifier can turn it on; and it holds exact loopback origins only (scheme, host and port), so even
    then it cannot point the notifier at another machine or another port.
    """

    origins: frozenset[str] = frozenset()

    @classmethod
    def loopback(cls, *base_urls: str) -> WebhookAllowance:
        """Allow these ``http(s)://<loopback host>:<port>`` origins (``SlackStandIn.base_url``); nothing else."""
        origins = set()
        for base_url in base_urls:
            parts, port = _split(base_url)
            if parts is None or not _is_loopback_origin(parts, port):
                raise ValueError("a webhook allowance is for exact loopback origins only (e.g. http://127.0.0.1:8080)")
            origins.add(_origin(parts))
        return cls(frozenset(origins))

    def allows(self, parts: SplitResult) -> bool:
        return _origin(parts) in self.origins


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
        raise WebhookConfigError(f"webhook secret: {key} {_UNSAFE_VALUE}")
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
    if not _SLACK_PATH.fullmatch(parts.path) or parts.query or parts.fragment or value.endswith(("?", "#")):
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
