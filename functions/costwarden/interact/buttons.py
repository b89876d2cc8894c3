"""Which buttons an alert carries (only when the Slack app is configured: ``settings.interact.enabled``).

A registry keyed by alert kind, like the renderers: each entry returns the buttons for one event routed to one
channel; the button's ``value`` carries the team, that channel (what ``authz`` checks the press against) and the
target. Kinds not listed get no buttons.

Next step (issue 10, the idle finder, not on main yet): its findings get *Keep for 14 days* (marks the resource
expected-idle) and *Stop now* (through the reaper's execution path: ``guard_reason``, the per-run cap and the
audit). Adding them is one entry in ``BUTTONS`` for its alert kind and one entry per action in
``interact.actions.ACTIONS`` (and the names in ``payload.BUTTON_ACTIONS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from costwarden.core.keys import CostKey, KeyFormatError
from costwarden.interact.hardlimit_timer import NOTICE_KEY, notice_text
from costwarden.interact.payload import MAX_VALUE_CHARS, Button, encode_button
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.settings import Settings

Block = dict[str, Any]
#: Extensions an expiry warning offers (days); ``actions.extend`` accepts exactly these.
EXTEND_DAYS = (1, 3, 7)


def cost_key(event: AlertEvent) -> CostKey | None:
    """A cost alert's dedup key, parsed (``cost#<series>#<day>#<severity>``); ``None`` for any other key."""
    try:
        return CostKey.parse(event.dedup_key)
    except KeyFormatError:
        return None


def series_of(event: AlertEvent) -> str | None:
    """The anomaly series (``team|second``) from a cost alert's dedup key."""
    key = cost_key(event)
    return None if key is None else key.series


def _expiry(event: AlertEvent, channel: str) -> list[tuple[str, Button, str | None]]:
    arn = event.details.get("arn")
    if not isinstance(arn, str) or not arn:
        return []
    return [
        (f"Extend {d} day{'s' if d > 1 else ''}", Button("extend", event.team, channel, arn, d), None)
        for d in EXTEND_DAYS
    ]


def _anomaly(event: AlertEvent, channel: str) -> list[tuple[str, Button, str | None]]:
    key = cost_key(event)
    if key is None or event.severity is Severity.INFO or key.retracted:
        return []
    series = key.series
    return [
        ("Acknowledge", Button("ack", event.team, channel, series), "primary"),
        ("Snooze this episode", Button("snooze", event.team, channel, series), None),
        ("It was planned", Button("planned", event.team, channel, series), None),
    ]


def _hard_limit(event: AlertEvent, channel: str, settings: Settings) -> list[tuple[str, Button, str | None]]:
    """*Enforce hard limit* / *Hold* on a critical anomaly of a team that opted in (on-call only)."""
    if event.severity is not Severity.CRITICAL or settings.budgets.hard_limit.get(event.team, "off") == "off":
        return []
    key = cost_key(event)
    if key is None or key.retracted:
        return []
    series = key.series
    if settings.budgets.hard_limit.get(event.team) == "auto":  # enforced by the grace timer unless held
        return [
            ("Hold", Button("hold", event.team, channel, series), "primary"),
            *_enforce_if_not_armed(event, channel, series),
            ("Lift hard limit", Button("lift", event.team, channel, series), None),
        ]
    return [
        ("Enforce hard limit", Button("enforce", event.team, channel, series), "danger"),
        ("Hold", Button("hold", event.team, channel, series), None),
    ]


def _enforce_if_not_armed(event: AlertEvent, channel: str, series: str) -> list[tuple[str, Button, str | None]]:
    """An ``auto`` alert whose timer could not be armed still offers on-call *Enforce*."""
    notice = event.details.get(NOTICE_KEY)
    if isinstance(notice, dict) and notice.get("status") == "failed":
        return [("Enforce hard limit", Button("enforce", event.team, channel, series), "danger")]
    return []


def hard_limit_notice(event: AlertEvent) -> list[Block]:
    """The grace timer's notice ("enforced at HH:MM UTC unless someone presses Hold"), when the alert has one."""
    notice = event.details.get(NOTICE_KEY)
    if event.kind is not AlertKind.COST_ANOMALY or not isinstance(notice, dict):
        return []
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": notice_text(notice)}]}]


def lift_block(team: str, channel: str, target: str) -> Block:
    """The *Lift* button the message shows once the hard limit is enforced."""
    button = Button("lift", team, channel, target)
    element = {
        "type": "button",
        "action_id": "cw_lift_0",
        "text": {"type": "plain_text", "text": "Lift hard limit"},
        "value": encode_button(button),
    }
    return {"type": "actions", "block_id": "costwarden_lift", "elements": [element]}


BUTTONS: dict[AlertKind, Callable[[AlertEvent, str], list[tuple[str, Button, str | None]]]] = {
    AlertKind.EXPIRY_WARNING: _expiry,
    AlertKind.COST_ANOMALY: _anomaly,
}


def action_blocks(event: AlertEvent, channel: str, settings: Settings) -> list[Block]:
    """The ``actions`` block for ``event`` posted to ``channel``; empty without the Slack app or buttons."""
    if not settings.interact.enabled or event.kind not in BUTTONS:
        return []
    elements = []
    wanted = BUTTONS[event.kind](event, channel)
    if event.kind is AlertKind.COST_ANOMALY:
        wanted += _hard_limit(event, channel, settings)
    for label, button, style in wanted:
        value = encode_button(button)
        if len(value) > MAX_VALUE_CHARS:  # Slack rejects the whole message: no button rather than no alert
            continue
        element: Block = {
            "type": "button",
            "action_id": f"cw_{button.action}_{button.days}",
            "text": {"type": "plain_text", "text": label},
            "value": value,
        }
        if style:
            element["style"] = style
        elements.append(element)
    actions = [{"type": "actions", "block_id": "costwarden_actions", "elements": elements}] if elements else []
    return [*hard_limit_notice(event), *actions]
