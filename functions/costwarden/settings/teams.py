"""The team directory entry: budget, pools, limits, owners and Slack routing of one team."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from costwarden.settings._base import (
    ChannelName,
    Owner,
    _Model,
)
from costwarden.settings.notify import (
    TeamSlackSettings,
)


class PoolBudgets(_Model):
    """A team's two pools (issue 15): production money is tight and judged on its projected month end; experiment
    money is a monthly pool the team spends freely, alerted on *actual* month-to-date spend (`pools.*` settings)."""

    production: float | None = Field(None, gt=0)
    """Monthly USD of the production pool (environments mapped to `production` by `pools.environments`); `null`:
    no production pool."""
    experiment: float | None = Field(None, gt=0)
    """Monthly USD of the experiment pool (environments mapped to `experiment`); `null`: no experiment pool."""


class TeamLimits(_Model):
    """Hard counts for a team's development/experiment resources (issue 15), checked by every reaper run."""

    development_instances: int | None = Field(None, ge=0)
    """Most running EC2 instances, SageMaker notebooks and training jobs the team may have in environments mapped to
    the experiment pool (`pools.environments`); `null`: no limit."""
    development_gpus: int | None = Field(None, ge=0)
    """Most GPUs (counted per instance type, `costwarden.reaper.gpus`) those resources may hold together; `null`: no
    limit."""
    action: Literal["report", "stop"] = "report"
    """At the limit the team is warned; over it, `report` only warns, `stop` stops the newest resources beyond the
    limit through the reaper's guard path (caps, protect tag, never production, dry run, audit)."""


class TeamPeopleSettings(_Model):
    """A team's opt-outs from `notifier.people` (both on by default when the fleet-wide switches are on)."""

    mentions: bool = True
    """Mention this team's owners on its critical alerts."""
    direct_messages: bool = True
    """Send this team's resources' people direct messages (expiry warnings, idle findings, reaps)."""


class TeamSettings(_Model):
    """One team's entry in the team directory (`teams.<team>`): its budget, its owners, where its alerts go.

    Extending: per-team data of later features is one more field here, typed with its own ``_Model`` and a docstring,
    never a new top-level map keyed by team. Validation at synth, the delivered document, the configuration table and
    ``load_settings`` pick it up with no other change. Planned: ``slack`` (user groups, member ids, on-call group)
    and ``launch_roles`` (issue 13: who may press a button, what a hard limit denies); ``pools`` (``production`` /
    ``experiment`` monthly budgets) and ``limits`` (development instance and GPU counts) (issue 15).
    """

    monthly_usd: float | None = Field(None, gt=0)
    """Monthly budget in USD; `null` (or absent) for a team without a budget (its spend is shown, never judged)."""
    owners: tuple[Owner, ...] = ()
    """Who answers for the team's spend: e-mail addresses, Slack user ids (`U...`) or user group ids (`S...`)."""
    channel: ChannelName | None = None
    """Key of the team's Slack channel in the webhook secret's `channels` object (many teams may share one);
    `null`: the secret's `teams.<team>` webhook if it has one, else `default`."""
    slack: TeamSlackSettings = TeamSlackSettings()
    """Who may act on the team's alerts from Slack (besides its Slack-id owners and on-call), and its launch roles."""
    pools: PoolBudgets = PoolBudgets()
    """Production and experiment monthly pools, next to (not instead of) the whole-team `monthly_usd`."""
    limits: TeamLimits = TeamLimits()
    """Development instance and GPU count limits, and what happens above them."""
    people: TeamPeopleSettings = TeamPeopleSettings()
    """Whether this team's owners are mentioned and its resources' people messaged (`notifier.people`)."""

    @field_validator("owners")
    @classmethod
    def _distinct_owners(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))


_ARTEFACT_TAGS: dict[str, tuple[str, ...]] = {"lifecycle_phase": ("training", "development")}
