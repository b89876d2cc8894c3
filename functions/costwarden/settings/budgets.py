"""Budgets, pools and the burn-rate thresholds."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from costwarden.settings._base import (
    TeamName,
    _Model,
)
from costwarden.settings.reaper import (
    PoolName,
)


def _default_environments() -> dict[str, PoolName]:
    return {
        "production": "production",
        "staging": "production",
        "development": "experiment",
        "experiment": "experiment",
    }


class PoolSettings(_Model):
    """How spend is split into a team's production and experiment pools, and when the experiment pool alerts."""

    environments: dict[str, PoolName] = Field(default_factory=_default_environments)
    """`environment` tag value -> pool. Spend with another value or without the tag belongs to no pool: it is shown
    on its own line, never guessed into one. Environments mapped to `experiment` are the ones `limits` count."""
    experiment_alert_ratios: tuple[float, ...] = (0.8, 1.0)
    """Shares of the experiment pool whose crossing by *actual* month-to-date spend alerts the team, once each per
    month."""
    spender_key: str = "experiment_id"
    """Tag key naming an experiment's jobs: an experiment alert lists the team's biggest values of it this month."""
    top_spenders: int = Field(5, ge=0, le=20)
    """Experiment spenders named in an experiment-pool alert."""

    def experiment_environments(self) -> tuple[str, ...]:
        """The environment values of the experiment pool: what the development limits count and may stop."""
        return tuple(sorted(env for env, pool in self.environments.items() if pool == "experiment"))

    @field_validator("experiment_alert_ratios")
    @classmethod
    def _sorted_ratios(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not 0 < r <= 5 for r in value):
            raise ValueError("experiment_alert_ratios are shares of the pool above 0 (0.8 is 80 %), at most 5")
        return tuple(sorted(set(value)))


class BudgetSettings(_Model):
    """Monthly USD budget per team, and where ON_TRACK turns into AT_RISK and OVER_BUDGET."""

    legacy_monthly_usd: dict[TeamName, float] = Field(default_factory=dict, alias="monthly_usd")
    """Old place of team budgets (team -> USD), still read: each entry moves to `teams.<team>.monthly_usd` at
    validation, and naming a team in both places is an error. New configurations use `teams`."""
    at_risk_ratio: float = Field(0.9, gt=0)
    """Projected month end above this share of the budget is AT_RISK."""
    over_budget_ratio: float = Field(1.1, gt=0)
    """Projected month end above this share of the budget is OVER_BUDGET; must be above `at_risk_ratio`."""
    hard_limit: dict[TeamName, Literal["off", "approve", "auto"]] = Field(default_factory=dict)
    """Hard limit per team when its day is critical (`anomaly.critical_ratio`, 200 %): `off` (default for teams not
    listed), `approve` (the critical alert carries *Enforce hard limit* for on-call) or `auto` (enforced after
    `hard_limit_grace_hours` unless someone presses *Hold*). Enforcing stops the team's running development and
    experiment EC2 instances, SageMaker notebooks and training/processing jobs through the reaper's guards and cap
    (endpoints: `hard_limit_endpoints`), and attaches a deny-launch policy to the team's `slack.launch_roles`;
    *Lift* removes exactly what was attached. Needs the Slack app (`interact.enabled`), on-call
    (`interact.oncall_users` or `oncall_groups`) and the team's `slack.launch_roles`: synth fails without them."""
    hard_limit_grace_hours: int = Field(2, ge=0, le=72)
    """Hours an `auto` hard limit waits for *Hold* before it is enforced."""
    hard_limit_endpoints: Literal["off", "delete"] = "off"
    """What the hard limit does to the team's development/experiment SageMaker endpoints (they cannot be stopped):
    `off` (default) says in the Slack reply and the audit which endpoints it would delete and leaves them serving;
    `delete` deletes them through the reaper's guards (with their config when it carries the expiry tag)."""
    pools: PoolSettings = PoolSettings()
    """Production and experiment pools (`teams.<team>.pools`): the environment mapping and the experiment alerts."""

    @field_validator("legacy_monthly_usd")
    @classmethod
    def _positive_budgets(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {team: amount for team, amount in value.items() if amount <= 0}
        if bad:
            raise ValueError(f"budgets must be positive USD amounts, got {bad}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BudgetSettings:
        if self.over_budget_ratio <= self.at_risk_ratio:
            raise ValueError("over_budget_ratio must be above at_risk_ratio")
        return self
