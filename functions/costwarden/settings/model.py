"""The root settings model: everything Costwarden can be told."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    model_validator,
)

from costwarden.settings._base import (
    TeamName,
    _Model,
)
from costwarden.settings.advisor import (
    AdvisorSettings,
    StorageSettings,
)
from costwarden.settings.anomaly import (
    AnomalySettings,
)
from costwarden.settings.bedrock import (
    BedrockSettings,
)
from costwarden.settings.budgets import (
    BudgetSettings,
)
from costwarden.settings.burn import (
    BurnSettings,
)
from costwarden.settings.idle import (
    IdleSettings,
)
from costwarden.settings.k8s import (
    K8sSettings,
)
from costwarden.settings.k8s_guard import (
    K8sGuardSettings,
)
from costwarden.settings.notify import (
    InteractSettings,
    NotifierSettings,
    ScheduleSettings,
)
from costwarden.settings.org import (
    OrganizationSettings,
)
from costwarden.settings.reaper import (
    ReaperSettings,
)
from costwarden.settings.tags import (
    TagPolicy,
)
from costwarden.settings.teams import (
    TeamSettings,
)
from costwarden.settings.unitcost import (
    UnitCostSettings,
)


class Settings(_Model):
    """Everything Costwarden can be told. Defaults are DESIGN.md's."""

    tags: TagPolicy = TagPolicy()
    """Tag policy: required and optional keys, allowed values, the keys Costwarden reads."""
    anomaly: AnomalySettings = AnomalySettings()
    """Anomaly detection on daily cost per team."""
    reaper: ReaperSettings = ReaperSettings()
    """The expiry reaper (the only part that changes resources)."""
    budgets: BudgetSettings = BudgetSettings()
    """Monthly budgets per team and the burn-rate thresholds."""
    schedules: ScheduleSettings = ScheduleSettings()
    """When each function runs."""
    notifier: NotifierSettings = NotifierSettings()
    """Where alerts and the digest go."""
    interact: InteractSettings = InteractSettings()
    """The optional Slack app: buttons on alerts, the slash command, who may press what."""
    teams: dict[TeamName, TeamSettings] = Field(default_factory=dict)
    """The team directory: per-team data keyed by `team` tag value. Written in `cdk.json` like every setting, but
    shipped to the functions as its own document (a JSON file in a Lambda layer, `COSTWARDEN_TEAMS_FILE`), not in
    the 4 KB environment: 1,000 teams and more deploy. Teams not listed are still watched, without a budget."""
    storage: StorageSettings = StorageSettings()
    """Savings advisor: artefact buckets, their lifecycle rules, prices and the opt-in apply."""
    advisor: AdvisorSettings = AdvisorSettings()
    """Savings advisor: commitments, purchase mix and its schedule."""
    idle: IdleSettings = IdleSettings()
    """The idle finder: idle signals, pricing, per-team alerts and the opt-in hand-over to the reaper."""
    organization: OrganizationSettings = OrganizationSettings()
    """Organization scale: guard every member account through StackSet roles and a Step Functions fan-out."""
    k8s: K8sSettings = K8sSettings()
    """Kubernetes on EKS: namespace -> team, the pod labels naming a workload and a team, who pays for idle nodes."""
    k8s_guard: K8sGuardSettings = K8sGuardSettings()
    """EKS namespace spend guarded like a team's, and idle GPU nodes (docs/k8s.md)."""
    bedrock: BedrockSettings = BedrockSettings()
    """The hourly Bedrock spend guard: token prices per model, the opt-in deny per team (docs/bedrock.md)."""
    burn: BurnSettings = BurnSettings()
    """The launch-time burn guard: launches priced from CloudTrail's events within minutes (docs/burn.md)."""
    unitcost: UnitCostSettings = UnitCostSettings()
    """Unit costs per model, training run and 1M tokens, and their efficiency regressions (docs/unitcost.md)."""
    cost_source: Literal["cost_explorer", "athena"] = "cost_explorer"
    """Where the cost monitor reads daily cost: Cost Explorer requests, or one partition-pruned Athena query over a
    CUR 2.0 / FOCUS Data Export (`organization.athena`)."""
    #: Tags Costwarden puts on its own resources (it follows the policy it enforces).
    stack_tags: dict[str, str] = Field(
        default_factory=lambda: {
            "team": "platform",
            "project": "costwarden",
            "model_id": "none",
            "environment": "production",
            "lifecycle_phase": "inference",
            "cost_center": "platform",
        }
    )
    """Tags Costwarden puts on its own resources (it follows the policy it enforces)."""

    @model_validator(mode="after")
    def _move_legacy_budgets(self) -> Settings:
        """``budgets.monthly_usd`` (the old place) into ``teams``, so every reader has one place to look.

        Both parts are validated by now (a bad legacy amount is named at ``budgets.monthly_usd``). The model is
        frozen; it is rewritten here, during its own validation, before anyone holds it (an "after" validator, so
        ``Settings(...)`` and ``Settings.model_validate(...)`` behave the same).
        """
        legacy = self.budgets.legacy_monthly_usd
        if not legacy:
            return self
        twice = sorted(team for team in legacy if team in self.teams and self.teams[team].monthly_usd is not None)
        if twice:
            raise ValueError(
                f"budgets.monthly_usd and teams.<team>.monthly_usd both give a budget for {len(twice)} team(s), "
                f"first {twice[0]!r}: keep teams.<team>.monthly_usd (budgets.monthly_usd is the old place)"
            )
        teams = dict(self.teams)
        for team, amount in legacy.items():
            teams[team] = teams.get(team, TeamSettings()).model_copy(update={"monthly_usd": amount})
        object.__setattr__(self, "teams", teams)
        object.__setattr__(self, "budgets", self.budgets.model_copy(update={"legacy_monthly_usd": {}}))
        return self

    @model_validator(mode="after")
    def _k8s_guard_needs_athena(self) -> Settings:
        """EKS split cost allocation data is only in the CUR 2.0 export (Athena), never in Cost Explorer."""
        if self.k8s_guard.enabled and self.cost_source != "athena":
            raise ValueError(
                "k8s_guard.enabled needs cost_source: athena (EKS split cost allocation data is read from the CUR 2.0 "
                "Data Export; Cost Explorer does not have it)"
            )
        if self.k8s_guard.enabled and self.organization.athena.export_format != "cur2":
            raise ValueError(
                "k8s_guard.enabled needs organization.athena.export_format: cur2 (EKS split cost allocation data is "
                "only in a CUR 2.0 export, never in FOCUS)"
            )
        return self

    @model_validator(mode="after")
    def _hard_limit_needs_the_app(self) -> Settings:
        """Enforce / Hold / Lift are buttons: a hard limit without the Slack app could never be pressed, one without
        on-call nobody may press (they are on-call only), one without launch roles would deny launching nothing —
        each refused here, at synth, naming the key (a lead who turned it on must not believe the team is capped)."""
        opted = sorted(team for team, mode in self.budgets.hard_limit.items() if mode != "off")
        if not opted:
            return self
        if not self.interact.enabled:
            raise ValueError(
                f"budgets.hard_limit is on for {len(opted)} team(s), first {opted[0]!r}, but interact.enabled is "
                "false: the hard limit is enforced from Slack; enable the app or set the team to off"
            )
        if not self.interact.oncall_users and not self.interact.oncall_groups:
            raise ValueError(
                f"budgets.hard_limit is on for {opted[0]!r} but interact.oncall_users and interact.oncall_groups are "
                "empty: Enforce / Hold / Lift are on-call only, so nobody could press them; name on-call"
            )
        roleless = [team for team in opted if team not in self.teams or not self.teams[team].slack.launch_roles]
        if roleless:
            raise ValueError(
                f"budgets.hard_limit is on for {roleless[0]!r} but teams.{roleless[0]}.slack.launch_roles is empty: "
                "the deny-launch policy would be attached to nothing; list the roles the team launches with"
            )
        return self

    def monthly_budgets(self) -> dict[str, float]:
        """Team -> monthly budget (USD) for every team of the directory that has one."""
        return {team: entry.monthly_usd for team, entry in self.teams.items() if entry.monthly_usd is not None}

    def teams_json(self) -> dict[str, Any]:
        """The team directory in its JSON form: what ``costwarden.teams`` writes into the delivered document."""
        dumped = self.model_dump(mode="json", exclude_defaults=True, include={"teams"})
        teams: dict[str, Any] = dumped.get("teams", {})
        return teams

    def to_env(self) -> str:
        """The compact JSON handed to functions in ``COSTWARDEN_SETTINGS``: everything but the team directory."""
        return self.model_dump_json(exclude_defaults=True, exclude={"teams"})
