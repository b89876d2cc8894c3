"""Wiring for the hard limit's grace timer (``interact/hardlimit_timer.py``): where the schedules go (environment
variables the stack sets on the notifier, which arms, and on the Slack app's function, which the schedule invokes),
the state table and AWS clients. Unset variables: the timer is not deployed (no team is ``auto``), and an ``auto``
alert says so instead of promising a time."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from costwarden.adapters import aws
from costwarden.interact.hardlimit_timer import TimerTarget, announce, fire
from costwarden.models.alert import AlertEvent
from costwarden.models.ports import StateStore
from costwarden.settings import Settings, load_settings

ENV_GROUP = "HARD_LIMIT_TIMER_GROUP"
ENV_TARGET = "HARD_LIMIT_TIMER_TARGET"
ENV_ROLE = "HARD_LIMIT_TIMER_ROLE"


def timer_target() -> TimerTarget | None:
    """The schedule group, the Slack app's function and Scheduler's role, from the environment; None: not deployed."""
    group, target, role = (os.environ.get(name, "") for name in (ENV_GROUP, ENV_TARGET, ENV_ROLE))
    return TimerTarget(group, target, role) if group and target and role else None


def announce_hard_limit(
    event: AlertEvent, settings: Settings, state: StateStore, *, now: datetime | None = None
) -> AlertEvent:
    """The notifier's call: arm the grace timer of a critical ``auto`` alert and put its notice on the event."""
    return announce(event, settings, state, aws.client, timer_target(), now=now or datetime.now(UTC))


def fire_timer(payload: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """The schedule's invocation of the Slack app's function: enforce unless held (audited either way)."""
    from costwarden.services.interact import context  # the worker's wiring: not loaded by the notifier
    from costwarden.services.reaper import state_store

    settings = load_settings()
    state, _note = state_store(probe=False)
    ctx = context(settings, state, bot_token="", now=now)
    return fire(settings, state, ctx.hard_limit_clients, payload, now=ctx.now, regions=ctx.regions)
