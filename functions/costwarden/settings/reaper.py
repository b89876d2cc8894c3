"""The expiry reaper's settings (dry run, caps, regions, production guard)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from costwarden.settings._base import (
    RegionName,
    _Model,
)


class ReaperSettings(_Model):
    """The destructive part: everything here defaults to the safe side."""

    dry_run: bool = True
    """Plan only: report what would be done and change nothing. Set `false` to let the reaper act."""
    max_actions_per_run: int = Field(25, ge=1, le=1000)
    """A plan with more actions than this acts on nothing and raises a critical `reap_blocked` alert instead."""
    warn_before_hours: tuple[int, ...] = (72, 24)
    """Hours before expiry at which the owning team is warned, once per resource and threshold."""
    allow_production: bool = False
    """Allow acting on resources tagged with environment `production` (off: they are only reported)."""
    force_termination_protected: bool = False
    """Turn off EC2/EMR termination protection in order to act (off: protected resources are skipped and reported)."""
    regions: tuple[RegionName, ...] = ()
    """Regions the reaper and tag audit scan; empty means the deployment region only."""
    missing_expiry: Literal["report", "mark"] = "report"
    """Experiment resources without an expiry tag: `report` them, or `mark` them with now + `default_ttl_days` and warn
    the team."""
    default_ttl_days: int = Field(7, ge=1, le=90)
    """Expiry given to unmarked experiment resources when `missing_expiry` is `mark`."""
    audit_ttl_days: int = Field(400, ge=30, le=3650)
    """How long reaper decisions are kept in the state table's audit log."""
    max_lifetime_days: int = Field(30, ge=1, le=3650)
    """Longest life an extension from Slack may give a resource, counted from its launch (or Costwarden's first
    sighting of it when the launch time is unknown): *Extend* never writes an expiry past it, and says so."""

    @field_validator("warn_before_hours")
    @classmethod
    def _positive_hours(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(h <= 0 for h in value):
            raise ValueError("warn_before_hours must be positive hours")
        return tuple(sorted(set(value), reverse=True))


PoolName = Literal["production", "experiment"]
