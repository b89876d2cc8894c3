"""The launch-time burn guard's settings (``costwarden.burn``, docs/burn.md)."""

from __future__ import annotations

from pydantic import Field

from costwarden.settings._base import (
    _Model,
)


class BurnSettings(_Model):
    """The launch-time burn guard: CloudTrail's API-call events priced within minutes, against the team's baseline.

    The thresholds are the daily detector's own (``anomaly.warn_ratio`` / ``critical_ratio`` / ``min_impact_usd``):
    the same baseline judged the same way, only minutes after the launch instead of the next morning.
    """

    enabled: bool = False
    """Deploy the EventBridge rules and the burn function (every guarded region, and member accounts through the
    organization StackSet when `organization.enabled`)."""
    regions: tuple[str, ...] = ()
    """Regions whose launches member accounts forward (the organization StackSet's regions); empty:
    `organization.regions`, else `reaper.regions`, else the deployment region. The central account's own rules are in
    the deployment region (docs/burn.md)."""
    event_ttl_days: float = Field(3.0, gt=0, le=30)
    """How long an event id is remembered, so a redelivered event (EventBridge delivers at least once) counts once."""
    unit_ttl_days: float = Field(35.0, gt=0, le=400)
    """How long a launched resource's record is kept without news (a stop, a resize) before it stops counting."""
