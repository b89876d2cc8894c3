"""Slack's request bodies → ``Interaction`` (pure). Called only after the signature is verified; still, every
field is checked: a malformed body is a 400, never a traceback.

Buttons carry their own context in ``value`` (compact JSON, written by ``buttons.py``): the action, the team, the
channel key the alert was routed to, the target (resource ARN or anomaly series) and the days of an extension.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from costwarden.core.slack_urls import SLACK_WEBHOOK_HOSTS, WebhookAllowance
from costwarden.interact.verify import bad_request

_ID = re.compile(r"[A-Z0-9]{1,32}")
_RESPONSE_PATH = re.compile(r"/(actions|commands)/[A-Za-z0-9/_-]{1,200}")
#: The actions a button may name (``idle_keep`` / ``idle_stop``: the idle finder's Keep and Stop, issue 23).
BUTTON_ACTIONS = ("extend", "ack", "snooze", "planned", "enforce", "hold", "lift", "idle_keep", "idle_stop")
#: The Bedrock hard limit's Deny and Lift (``interact/bedrock_limit.py``), accepted like the others.
BEDROCK_ACTIONS = ("bedrock_deny", "bedrock_lift")
#: Actions with the widest blast radius: on-call only.
ONCALL_ACTIONS = frozenset({"enforce", "hold", "lift", "bedrock_deny", "bedrock_lift"})
MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class Button:
    """What a pressed button asks for (decoded from its ``value``)."""

    action: str
    team: str
    channel: str
    target: str
    days: int = 0


@dataclass(frozen=True)
class Interaction:
    """One verified request: a button press (``block_actions``) or a slash command."""

    kind: str
    user_id: str
    channel_id: str
    channel_name: str
    response_url: str = field(repr=False)
    #: What makes this request unique (Slack's ``action_ts`` or ``trigger_id``): the replay key.
    request_id: str
    button: Button | None = None
    command_text: str = ""
    message_ts: str = ""
    message_blocks: tuple[dict[str, Any], ...] = ()

    @property
    def replay_key(self) -> str:
        return f"{self.kind}#{self.user_id}#{self.request_id}"

    @property
    def hinted_team(self) -> str | None:
        """The team the button claims (a hint: ``authz.authorize_target`` checks it against the target's own team);
        None for a slash command, which names its team as its target."""
        return self.button.team if self.button is not None else None

    @property
    def rendered_channel(self) -> str:
        """The route the button says it was rendered for (data from the message, never trusted alone)."""
        return self.button.channel if self.button is not None else ""


def _str(data: Any, key: str, limit: int = 256) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > limit:
        raise bad_request()
    return value


def response_url_ok(url: str, allowance: WebhookAllowance | None = None) -> bool:
    """Slack's ``response_url`` is https on hooks.slack.com, ``/actions/...`` or ``/commands/...``; anything else
    is never posted to (a forged one would turn the function into a request relay)."""
    if not url.isascii() or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    if allowance is not None and allowance.allows(parts) and not parts.username:
        return True
    return (
        parts.scheme == "https"
        and parts.hostname in SLACK_WEBHOOK_HOSTS
        and parts.port in (None, 443)
        and "@" not in parts.netloc
        and _RESPONSE_PATH.fullmatch(parts.path) is not None
        and not parts.query
        and not parts.fragment
    )


def _json(text: str) -> Any:
    """Signed JSON from Slack (or from whoever holds a webhook of the app) → data, or 400.

    The body is at most ``MAX_BODY_BYTES`` (64 KiB), so it can still nest ~32,000 levels deep: the C parser then
    raises ``RecursionError``, which is as much the sender's doing as a syntax error and gets the same 400.
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise bad_request() from None


def decode_button(value: str) -> Button:
    """A button's ``value`` → ``Button`` or 400."""
    if len(value) > MAX_VALUE_CHARS:
        raise bad_request()
    data = _json(value)
    if not isinstance(data, dict) or data.get("a") not in (*BUTTON_ACTIONS, *BEDROCK_ACTIONS):
        raise bad_request()
    days = data.get("d", 0)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
        raise bad_request()
    return Button(_str(data, "a"), _str(data, "t"), _str(data, "c", 80), _str(data, "r", 1600), days)


def encode_button(button: Button) -> str:
    data: dict[str, Any] = {"a": button.action, "t": button.team, "c": button.channel, "r": button.target}
    if button.days:
        data["d"] = button.days
    return json.dumps(data, separators=(",", ":"))


def parse_body(body: bytes, allowance: WebhookAllowance | None = None) -> Interaction:
    """The form-encoded body of a verified request → ``Interaction``, or 400."""
    try:
        # Blank values kept: `/costwarden` with no text arrives as `text=` and deserves the usage, not a 400.
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise bad_request() from None
    if "payload" in form:
        return _block_actions(form["payload"][0], allowance)
    if "command" in form:
        return _slash_command({k: v[0] for k, v in form.items()}, allowance)
    raise bad_request()


def _checked_url(url: str, allowance: WebhookAllowance | None) -> str:
    if not response_url_ok(url, allowance):
        raise bad_request()
    return url


def _block_actions(raw: str, allowance: WebhookAllowance | None) -> Interaction:
    data = _json(raw)
    if not isinstance(data, dict) or data.get("type") != "block_actions":
        raise bad_request()
    actions = data.get("actions")
    if not isinstance(actions, list) or len(actions) != 1 or not isinstance(actions[0], dict):
        raise bad_request()
    action = actions[0]
    user, channel = data.get("user"), data.get("channel")
    container = data.get("container") if isinstance(data.get("container"), dict) else {}
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    blocks = message.get("blocks", []) if isinstance(message, dict) else []
    user_id = _str(user, "id", 32)
    if not _ID.fullmatch(user_id):
        raise bad_request()
    return Interaction(
        kind="block_actions",
        user_id=user_id,
        channel_id=_str(channel, "id", 32),
        channel_name=_str(channel, "name", 80) if isinstance(channel, dict) and "name" in channel else "",
        response_url=_checked_url(_str(data, "response_url", 512), allowance),
        request_id=_str(action, "action_ts", 64),
        button=decode_button(_str(action, "value", MAX_VALUE_CHARS)),
        message_ts=str(container.get("message_ts", ""))[:64] if isinstance(container, dict) else "",
        message_blocks=tuple(b for b in blocks if isinstance(b, dict))[:50] if isinstance(blocks, list) else (),
    )


def _slash_command(form: dict[str, str], allowance: WebhookAllowance | None) -> Interaction:
    user_id = _str(form, "user_id", 32)
    if not _ID.fullmatch(user_id) or form.get("command") != "/costwarden":
        raise bad_request()
    return Interaction(
        kind="slash_command",
        user_id=user_id,
        channel_id=_str(form, "channel_id", 32),
        channel_name=_str(form, "channel_name", 80),
        response_url=_checked_url(_str(form, "response_url", 512), allowance),
        request_id=_str(form, "trigger_id", 128),
        command_text=_str(form, "text", 1000),
    )
