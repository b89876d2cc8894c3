"""Which buttons an alert carries (only when the Slack app is configured: ``settings.interact.enabled``).

A registry keyed by alert kind, like the renderers: each entry returns the buttons (``Offer``) for one event
routed to one channel; the button's ``value`` carries the team (a hint: ``authz.authorize_target`` checks the
target's own team), that channel and the target. Kinds not listed get no buttons. Adding a button is one entry in
``BUTTONS`` for its alert kind and one entry per action in ``interact.actions.ACTIONS`` (and the name in
``payload.BUTTON_ACTIONS``).

Every destructive or money-moving button (``CONFIRMED_ACTIONS``: stop, enforce, a long keep, planned spend; every
``style: danger``) carries a Slack ``confirm`` dialog naming the exact resource or team and the USD at stake, within
Slack's limits (``confirm_dialog``). Destructive buttons are rendered only where the presser's role can use them:
*Enforce hard limit* only in the on-call route's rendering (``authz.ONCALL_ROUTE``); *Stop* only for stoppable types
(``stoppable``) and never for production or protected resources (the one action path refuses them anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from costwarden.core.keys import CostKey, KeyFormatError
from costwarden.core.money import usd
from costwarden.core.text import clip
from costwarden.interact.authz import ONCALL_ROUTE
from costwarden.interact.hardlimit_timer import NOTICE_KEY, notice_text
from costwarden.interact.payload import MAX_VALUE_CHARS, Button, encode_button
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.resources import REGISTRY
from costwarden.resources.base import ResourceType
from costwarden.settings import Settings

Block = dict[str, Any]
#: Extensions an expiry warning offers (days); ``actions.extend`` accepts exactly these.
EXTEND_DAYS = (1, 3, 7)
#: Keeps an idle finding offers (days); ``actions.keep`` accepts exactly these. The longer one asks to confirm.
KEEP_DAYS = (14, 90)
LONG_KEEP_DAYS = 90
#: Buttons that must carry a ``confirm`` dialog (besides every ``style: danger`` one): destructive or money-moving.
CONFIRMED_ACTIONS = frozenset({"enforce", "idle_stop", "planned", "bedrock_deny"})
#: Slack's limits on a ``confirm`` object (characters): title, text, and the two buttons.
CONFIRM_TITLE_MAX, CONFIRM_TEXT_MAX, CONFIRM_BUTTON_MAX = 100, 300, 30
#: Idle findings that get Keep/Stop buttons, largest first (one actions block each: a message holds 50 blocks).
IDLE_BUTTON_FINDINGS = 8
#: Instances of a burn alert's largest launch that get Extend/Stop buttons (one actions block each).
BURN_BUTTON_RESOURCES = 5
#: Finding kinds with nothing left to stop (already stopped, or a volume).
_NOTHING_TO_STOP = frozenset({"stopped", "unattached"})


class Offer(NamedTuple):
    """One button to render."""

    label: str
    """What it says (clipped to Slack's 75 characters)."""
    button: Button
    """What it does: its ``value``."""
    style: str | None = None
    """``primary``, ``danger`` or none."""
    confirm: Block | None = None
    """Its ``confirm`` dialog (``confirm_dialog``), required on destructive and money-moving buttons."""
    group: str = "actions"
    """The ``actions`` block it sits in (``costwarden_<group>``): one per idle finding."""


def confirm_dialog(title: str, text: str, *, go: str, deny: str = "Cancel") -> Block:
    """A Slack ``confirm`` composition object, style danger, every field clipped to Slack's limits."""
    return {
        "title": {"type": "plain_text", "text": clip(title, CONFIRM_TITLE_MAX)},
        "text": {"type": "plain_text", "text": clip(text, CONFIRM_TEXT_MAX)},
        "confirm": {"type": "plain_text", "text": clip(go, CONFIRM_BUTTON_MAX)},
        "deny": {"type": "plain_text", "text": clip(deny, CONFIRM_BUTTON_MAX)},
        "style": "danger",
    }


def stoppable(type_name: str) -> bool:
    """A registry type that can be stopped and kept (it implements ``stop``): EC2 instances, SageMaker notebooks and
    jobs. The others (volumes, endpoints, clusters) have no stop: Stop is never offered, and refused if pressed."""
    rtype = REGISTRY.get(type_name)
    return rtype is not None and type(rtype).stop is not ResourceType.stop


def _figure(event: AlertEvent, label: str) -> str:
    figures = event.details.get("figures")
    value = figures.get(label) if isinstance(figures, Mapping) else None
    return str(value) if value is not None else "-"


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


def _expiry(event: AlertEvent, channel: str, _settings: Settings) -> list[Offer]:
    arn = event.details.get("arn")
    if not isinstance(arn, str) or not arn:
        return []
    return [
        Offer(f"Extend {d} day{'s' if d > 1 else ''}", Button("extend", event.team, channel, arn, d))
        for d in EXTEND_DAYS
    ]


def _anomaly(event: AlertEvent, channel: str, settings: Settings) -> list[Offer]:
    key = cost_key(event)
    if key is None or event.severity is Severity.INFO or key.retracted:
        return []
    series = key.series
    spend = f"{_figure(event, 'Cost')} against a usual {_figure(event, 'Usual')} ({_figure(event, 'Extra')})"
    planned = confirm_dialog(
        f"Mark {event.team}'s spend as planned?",
        f"{spend} for {clip(series, 60)}. Its escalations are then recorded, not sent, for the rest of this episode.",
        go="It was planned",
    )
    return [
        Offer("Acknowledge", Button("ack", event.team, channel, series), "primary"),
        Offer("Snooze this episode", Button("snooze", event.team, channel, series)),
        Offer("It was planned", Button("planned", event.team, channel, series), confirm=planned),
        *_hard_limit(event, channel, settings),
    ]


def _unit_cost(event: AlertEvent, channel: str, settings: Settings) -> list[Offer]:
    """An efficiency regression (``unitcost.alerts``): its episode's Acknowledge, Snooze and It was planned, never
    the hard limit (a unit cost is not a spend a team's launches can be stopped for)."""
    return [o for o in _anomaly(event, channel, settings) if o.button.action in {"ack", "snooze", "planned"}]


def _hard_limit(event: AlertEvent, channel: str, settings: Settings) -> list[Offer]:
    """*Enforce hard limit* / *Hold* on a critical anomaly of a team that opted in (on-call only): rendered in the
    on-call route only, where the presser can use them."""
    if event.severity is not Severity.CRITICAL or settings.budgets.hard_limit.get(event.team, "off") == "off":
        return []
    key = cost_key(event)
    if key is None or key.retracted or channel != ONCALL_ROUTE:
        return []
    series = key.series
    team_key = settings.tags.team_key
    team = clip(event.team, 40)
    # A burn-rate alert (the same episode) shows the day at the current rate against the usual day.
    cost, usual = ("Day at this rate", "Usual day") if event.kind is AlertKind.BURN_RATE else ("Cost", "Usual")
    enforce = confirm_dialog(
        f"Enforce the hard limit of {event.team}?",
        f"Spend {_figure(event, cost)} against a usual {_figure(event, usual)}. Stops {team}'s running "
        f"development/experiment EC2 instances and denies launches tagged {team_key}={team} on its launch roles "
        "until lifted.",
        go="Enforce",
    )
    if settings.budgets.hard_limit.get(event.team) == "auto":  # enforced by the grace timer unless held
        return [
            Offer("Hold", Button("hold", event.team, channel, series), "primary"),
            *_enforce_if_not_armed(event, channel, series, enforce),
            Offer("Lift hard limit", Button("lift", event.team, channel, series)),
        ]
    return [
        Offer("Enforce hard limit", Button("enforce", event.team, channel, series), "danger", enforce),
        Offer("Hold", Button("hold", event.team, channel, series)),
    ]


def _idle(event: AlertEvent, channel: str, _settings: Settings) -> list[Offer]:
    """*Keep 14 days* / *Keep 90 days* / *Stop* for the largest findings of a team's idle alert."""
    findings = event.details.get("findings")
    if not isinstance(findings, list):
        return []
    offers: list[Offer] = []
    for index, finding in enumerate(f for f in findings[:IDLE_BUTTON_FINDINGS] if isinstance(f, Mapping)):
        if finding.get("arn"):
            offers += _finding_offers(event.team, channel, finding, f"idle_{index}")
    return offers


def _finding_offers(team: str, channel: str, finding: Mapping[str, Any], group: str) -> list[Offer]:
    """One idle finding's Keep buttons, and Stop when it is a stoppable type, not production, not protected."""
    arn, ident, rtype = str(finding["arn"]), str(finding.get("id", "")), str(finding.get("type", ""))
    cost = finding.get("monthly_usd")
    at_stake = f"{usd(cost)}/month idle" if isinstance(cost, int | float) else "Idle, price unknown"
    what = f"{rtype} {clip(ident, 80)} ({finding.get('region', '')})"
    short = clip(ident, 30)
    offers: list[Offer] = []
    for days in KEEP_DAYS:
        dialog = None
        if days >= LONG_KEEP_DAYS:
            dialog = confirm_dialog(
                f"Keep {short} for {days} days?",
                f"{at_stake}: {what} is left out of the idle report for {days} days.",
                go=f"Keep {days} days",
            )
        offers.append(
            Offer(f"Keep {short} {days} d", Button("idle_keep", team, channel, arn, days), None, dialog, group)
        )
    environment = str(finding.get("environment", "")).strip().lower()
    protected = bool(finding.get("protected", False))
    if (
        stoppable(rtype)
        and finding.get("kind") not in _NOTHING_TO_STOP
        and environment != "production"
        and not protected
    ):
        dialog = confirm_dialog(
            f"Stop {short}?",
            f"{at_stake}: stops {what}. Stopped, never terminated: start it again by hand.",
            go="Stop",
        )
        offers.append(Offer(f"Stop {short}", Button("idle_stop", team, channel, arn), "danger", dialog, group))
    return offers


def _burn(event: AlertEvent, channel: str, settings: Settings) -> list[Offer]:
    """A burn-rate alert (``burn.alerts``): *It was planned* on the episode it opened, *Extend* / *Stop* for the
    instances of its largest launch (Stop only for stoppable types outside production), and the hard limit's
    buttons as on a critical anomaly (the same episode key)."""
    key = cost_key(event)
    if key is None or key.retracted:
        return []
    rate = f"{_figure(event, 'USD per hour')}/hour, {_figure(event, 'Day at this rate')} a day at this rate"
    planned = confirm_dialog(
        f"Mark {event.team}'s launches as planned?",
        f"{rate} against a usual {_figure(event, 'Usual day')}. Its escalations are then recorded, not sent.",
        go="It was planned",
    )
    offers = [Offer("It was planned", Button("planned", event.team, channel, key.series), confirm=planned)]
    launches = event.details.get("launches")
    top = launches[0] if isinstance(launches, list) and launches and isinstance(launches[0], Mapping) else {}
    raw_tags = event.details.get("tags")
    tags: Mapping[str, Any] = raw_tags if isinstance(raw_tags, Mapping) else {}
    production = str(tags.get(settings.tags.environment_key, "")).strip().lower() == "production"
    rtype = str(top.get("resource_type", ""))
    for index, arn in enumerate(a for a in top.get("arns", [])[:BURN_BUTTON_RESOURCES] if isinstance(a, str)):
        short, group = clip(arn.rsplit("/", 1)[-1], 30), f"burn_{index}"
        offers.append(Offer(f"Extend {short} 1 day", Button("extend", event.team, channel, arn, 1), group=group))
        if stoppable(rtype) and not production:
            dialog = confirm_dialog(f"Stop {short}?", f"{rate}: stops {rtype} {short}.", go="Stop")
            offers.append(
                Offer(f"Stop {short}", Button("idle_stop", event.team, channel, arn), "danger", dialog, group)
            )
    return [*offers, *_hard_limit(event, channel, settings)]


def _enforce_if_not_armed(event: AlertEvent, channel: str, series: str, enforce: Block) -> list[Offer]:
    """An ``auto`` alert whose timer could not be armed still offers on-call *Enforce* (with its confirm dialog)."""
    notice = event.details.get(NOTICE_KEY)
    if isinstance(notice, dict) and notice.get("status") == "failed":
        return [Offer("Enforce hard limit", Button("enforce", event.team, channel, series), "danger", enforce)]
    return []


def hard_limit_notice(event: AlertEvent) -> list[Block]:
    """The grace timer's notice ("enforced at HH:MM UTC unless someone presses Hold"), when the alert has one."""
    notice = event.details.get(NOTICE_KEY)
    if event.kind not in {AlertKind.COST_ANOMALY, AlertKind.BURN_RATE} or not isinstance(notice, dict):
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


def _bedrock(event: AlertEvent, channel: str, settings: Settings) -> list[Offer]:
    """*Deny Bedrock* on a critical Bedrock alert of a team with ``bedrock.hard_limit: approve`` (on-call route)."""
    if event.severity is not Severity.CRITICAL or channel != ONCALL_ROUTE:
        return []
    if settings.bedrock.hard_limit.get(event.team, "off") != "approve":
        return []
    dialog = confirm_dialog(
        f"Deny Bedrock for {event.team}?",
        f"Spent today {_figure(event, 'Spent today')} against a daily budget of {_figure(event, 'Daily budget')}. "
        "Denies bedrock:InvokeModel* on the team's inference profiles for its profile roles until lifted.",
        go="Deny Bedrock",
    )
    return [Offer("Deny Bedrock", Button("bedrock_deny", event.team, channel, event.team), "danger", dialog)]


BUTTONS: dict[AlertKind, Callable[[AlertEvent, str, Settings], list[Offer]]] = {
    AlertKind.EXPIRY_WARNING: _expiry,
    AlertKind.COST_ANOMALY: _anomaly,
    AlertKind.IDLE: _idle,
    AlertKind.BEDROCK: _bedrock,
    AlertKind.BURN_RATE: _burn,
    AlertKind.UNIT_COST: _unit_cost,
}


def action_blocks(event: AlertEvent, channel: str, settings: Settings) -> list[Block]:
    """The ``actions`` blocks for ``event`` posted to ``channel`` (one per group, in order); empty without the Slack
    app or buttons."""
    if not settings.interact.enabled or event.kind not in BUTTONS:
        return []
    groups: dict[str, list[Block]] = {}
    for offer in BUTTONS[event.kind](event, channel, settings):
        value = encode_button(offer.button)
        if len(value) > MAX_VALUE_CHARS:  # Slack rejects the whole message: no button rather than no alert
            continue
        button = offer.button
        element: Block = {
            "type": "button",
            "action_id": f"cw_{button.action}_{button.days}",
            "text": {"type": "plain_text", "text": clip(offer.label, 75)},
            "value": value,
        }
        if offer.style:
            element["style"] = offer.style
        if offer.confirm:
            element["confirm"] = offer.confirm
        groups.setdefault(offer.group, []).append(element)
    actions = [
        {"type": "actions", "block_id": f"costwarden_{group}", "elements": elements}
        for group, elements in groups.items()
    ]
    return [*hard_limit_notice(event), *actions]
