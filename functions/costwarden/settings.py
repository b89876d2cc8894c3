"""The one typed configuration of Costwarden (DESIGN.md, "Configuration").

Read from ``cdk.json`` context (key ``costwarden``) at synth, validated there so that a bad value fails
``cdk synth`` with a message naming the key, and handed to every function as one JSON environment variable
(``COSTWARDEN_SETTINGS``). A function that starts without it fails at import, loudly, not on its first schedule.

Per-team data (the team directory, ``teams``) is the exception: a thousand teams do not fit Lambda's 4 KB of
environment, so it travels as its own document (``costwarden.teams``: a JSON file in a Lambda layer, validated at
synth by this same model) and ``load_settings`` puts it back in ``Settings.teams``. Code reads one ``Settings``
whichever way its parts travelled.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from costwarden import teams as team_document
from costwarden.redaction import redact

SETTINGS_ENV_VAR = "COSTWARDEN_SETTINGS"
CONTEXT_KEY = "costwarden"
#: Lambda caps all environment variables of a function at 4 KB together; keep room for Powertools' own.
MAX_SETTINGS_ENV_BYTES = 3_000
#: At most this many problems are listed in one settings error (a generated directory can be wrong 1,000 times).
MAX_ERRORS_SHOWN = 20


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SLACK_ID = re.compile(r"[UWS][A-Z0-9]{6,20}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


def _owner(value: str) -> str:
    if len(value) > 254 or not (_EMAIL.fullmatch(value) or _SLACK_ID.fullmatch(value)):
        raise ValueError("an owner is an e-mail address, a Slack user id (U.../W...) or a Slack user group id (S...)")
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.fullmatch(value):
        raise ValueError("a channel key is 1-80 characters of a-z, 0-9, `.`, `_`, `-` (a Slack channel name, no `#`)")
    return value


def _team_name(value: str) -> str:
    if value != value.strip() or _CONTROL.search(value):
        raise ValueError("a team name is the `team` tag value: no surrounding blanks, no control characters")
    return value


#: An owner: ``alice@example.com``, a Slack user id (``U024BE7LH``, ``W...``) or user group id (``S0614TZR7``).
Owner = Annotated[str, AfterValidator(_owner)]
#: A team, as its ``team`` tag value (AWS allows 256 characters in a tag value).
TeamName = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_team_name)]
#: A routing key of the webhook secret's ``channels`` object (usually the Slack channel's name, without ``#``).
ChannelName = Annotated[str, AfterValidator(_channel)]


class _Model(BaseModel):
    """Strict base: unknown keys are typos, and a typo in a guardrail's config must not pass silently."""

    # Each field's docstring is its description (pydantic reads it): the configuration reference in the README is
    # generated from these (``costwarden config-doc``), and a test fails for a field without one.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class TagPolicy(_Model):
    """Which tags a resource must carry, and which values some of them may take."""

    required: tuple[str, ...] = ("team", "project", "model_id", "environment", "lifecycle_phase", "cost_center")
    """Tag keys every resource must carry; a missing or empty one is a tag violation."""
    optional: tuple[str, ...] = ("experiment_id", "created_by", "expires_at")
    """Tag keys a resource may carry; known to the validator so that typos of them are caught."""
    allowed_values: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {
            "environment": ("production", "staging", "development", "experiment"),
            "lifecycle_phase": (
                "training",
                "inference",
                "feature_pipeline",
                "monitoring",
                "data_pipeline",
                "development",
            ),
        }
    )
    """Allowed values per tag key; a key listed here must be required or optional."""
    team_key: str = "team"
    """Tag key that names the owning team: cost is grouped by it and alerts are routed by it."""
    expires_key: str = "expires_at"
    """Tag key holding a resource's expiry (ISO 8601 date or date-time) that the reaper acts on."""
    environment_key: str = "environment"
    """Tag key holding the environment; `production` resources are never reaped unless `reaper.allow_production`."""
    protect_key: str = "costwarden:protect"
    """Tag key that protects a resource from the reaper (IAM refuses too) when it holds `protect_value`."""
    protect_value: str = "true"
    """Value of `protect_key` that protects a resource."""
    untagged_share_warn: float = Field(0.10, ge=0, le=1)
    """The tag audit's account summary turns from info to warning above this share of spend without a team (0-1)."""
    audit_window_days: int = Field(7, ge=1, le=31)
    """Days per window of the untagged-spend share (this window against the one before)."""

    @model_validator(mode="after")
    def _allowed_values_name_known_keys(self) -> TagPolicy:
        known = set(self.required) | set(self.optional)
        unknown = sorted(set(self.allowed_values) - known)
        if unknown:
            raise ValueError(f"allowed_values names keys that are neither required nor optional: {unknown}")
        return self


class AnomalySettings(_Model):
    """When a team's day is news: ratio to its own robust baseline, and an absolute floor."""

    baseline_days: int = Field(30, ge=7, le=180)
    """Trailing days of history a team's baseline is computed from (the judged day excluded)."""
    min_history_days: int = Field(7, ge=3, le=180)
    """Days of history a team needs before its spend is judged at all (new teams are not flagged)."""
    warn_ratio: float = Field(1.5, gt=1.0)
    """A day at or above this multiple of the baseline is a warning anomaly."""
    critical_ratio: float = Field(2.0, gt=1.0)
    """A day at or above this multiple of the baseline is a critical anomaly; must be >= `warn_ratio`."""
    min_impact_usd: float = Field(50.0, ge=0)
    """Extra spend over the baseline (USD) a day must reach to be an anomaly at all: small teams' noise is not news."""
    zscore: float = Field(3.0, gt=0)
    """Robust z-score a day must also exceed: the second signal next to the ratio."""
    cost_metric: Literal["AmortizedCost", "UnblendedCost", "NetAmortizedCost", "NetUnblendedCost", "BlendedCost"] = (
        "AmortizedCost"
    )
    """Cost Explorer metric used everywhere. Amortized spreads reservation and savings plan fees over the month instead
    of spiking on the 1st."""
    second_group_key: str | None = "lifecycle_phase"
    """Second tag key cost is grouped by (team x this key); `null` for team only."""
    #: Cost Explorer RECORD_TYPE values left out of baselines (credits, refunds and taxes are not usage).
    excluded_record_types: tuple[str, ...] = ("Credit", "Refund", "Tax")
    """Cost Explorer RECORD_TYPE values left out of baselines (credits, refunds and taxes are not usage)."""
    excluded_charge_categories: tuple[str, ...] = ("Adjustment", "Credit", "Purchase", "Tax")
    """FOCUS `ChargeCategory` values left out of the series `costwarden detect` judges, as `excluded_record_types` are
    for Cost Explorer: only usage is news; a month of credits would hide usage, then fake a spike when they end."""
    root_cause_max_teams: int = Field(5, ge=0, le=50)
    """At most this many anomalous teams get a per-service root-cause query per run (each costs one Cost Explorer
    request)."""

    @model_validator(mode="after")
    def _critical_above_warning(self) -> AnomalySettings:
        if self.critical_ratio < self.warn_ratio:
            raise ValueError(f"critical_ratio ({self.critical_ratio}) must be >= warn_ratio ({self.warn_ratio})")
        if self.min_history_days > self.baseline_days:
            raise ValueError("min_history_days must not exceed baseline_days")
        return self


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
    regions: tuple[str, ...] = ()
    """Regions the reaper and tag audit scan; empty means the deployment region only."""
    missing_expiry: Literal["report", "mark"] = "report"
    """Experiment resources without an expiry tag: `report` them, or `mark` them with now + `default_ttl_days` and warn
    the team."""
    default_ttl_days: int = Field(7, ge=1, le=90)
    """Expiry given to unmarked experiment resources when `missing_expiry` is `mark`."""
    audit_ttl_days: int = Field(400, ge=30, le=3650)
    """How long reaper decisions are kept in the state table's audit log."""

    @field_validator("warn_before_hours")
    @classmethod
    def _positive_hours(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(h <= 0 for h in value):
            raise ValueError("warn_before_hours must be positive hours")
        return tuple(sorted(set(value), reverse=True))


PoolName = Literal["production", "experiment"]


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


class ScheduleSettings(_Model):
    """When each function runs (UTC). Cost Explorer updates a few times a day; morning UTC suits most teams."""

    cost_monitor_hour_utc: int = Field(8, ge=0, le=23)
    """Hour (UTC) of the daily cost monitor run; the daily digest is sent at the end of that run."""
    reaper_rate_minutes: int = Field(60, ge=5, le=1440)
    """Minutes between reaper runs."""
    tag_audit_weekday: Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] = "MON"
    """Day of the week of the tag audit."""
    tag_audit_hour_utc: int = Field(7, ge=0, le=23)
    """Hour (UTC) of the weekly tag audit."""


class NotifierSettings(_Model):
    """Where alerts go: Slack webhooks held in a Secrets Manager secret, referenced by name only."""

    slack_secret_name: str = "costwarden/slack-webhooks"  # noqa: S105 - a name, not a secret
    """Name of the Secrets Manager secret holding the Slack webhook URLs (the URLs never appear in the template)."""
    operator_email: str | None = None
    """E-mail subscribed to the operator topic (alarms about Costwarden itself; confirm the mail); `null` for none."""
    per_team_digest: bool = False
    """Also send each team its own digest, next to the fleet-wide one."""
    digest_top_n: int = Field(15, ge=1, le=40)
    """Teams listed by name in the digest's table (largest month-to-date spend first); the rest are counted as "and M
    more"."""

    @field_validator("operator_email")
    @classmethod
    def _an_email_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("must be an e-mail address (name@example.com)")
        return value

    @field_validator("slack_secret_name")
    @classmethod
    def _name_not_url(cls, value: str) -> str:
        if value.startswith(("http://", "https://")):
            raise ValueError("give the secret's name, never a webhook URL (the URL must not be in the template)")
        return value


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
    pools: PoolBudgets = PoolBudgets()
    """Production and experiment monthly pools, next to (not instead of) the whole-team `monthly_usd`."""
    limits: TeamLimits = TeamLimits()
    """Development instance and GPU count limits, and what happens above them."""

    @field_validator("owners")
    @classmethod
    def _distinct_owners(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))


_ARTEFACT_TAGS: dict[str, tuple[str, ...]] = {"lifecycle_phase": ("training", "development")}


class StorageSettings(_Model):
    """Artefact storage (advisor): which buckets hold experiment/training artefacts, their prices and the rules."""

    artefact_tag_values: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(_ARTEFACT_TAGS))
    """Further tag key -> values that mark a bucket as experiment/training artefacts (any one match is enough)."""
    artefact_environments: tuple[str, ...] = ("experiment", "development")
    """Values of the environment tag (key `tags.environment_key`) that mark a bucket as artefacts."""
    name_patterns: tuple[str, ...] = ()
    """Bucket-name patterns (shell style, e.g. `*-checkpoints`) that mark artefact buckets whatever their tags."""
    keep_key: str = "costwarden:keep"
    """Bucket tag key that keeps artefacts: the recommended rules then tier but never expire."""
    keep_value: str = "true"
    """Value of `keep_key` that keeps artefacts."""
    abort_multipart_days: int = Field(7, ge=1, le=365)
    """Recommended rule: abort incomplete multipart uploads after this many days."""
    noncurrent_days: int = Field(30, ge=1, le=3650)
    """Recommended rule: expire noncurrent object versions after this many days."""
    tiering_days: int = Field(30, ge=0, le=3650)
    """Recommended rule: move objects to Intelligent-Tiering after this many days."""
    expire_days: int = Field(180, ge=1, le=3650)
    """Recommended rule: expire objects after this many days (buckets tagged `keep_key` are exempt)."""
    usd_per_gb_month: dict[str, float] = Field(
        default_factory=lambda: {
            "StandardStorage": 0.023,
            "ReducedRedundancyStorage": 0.024,
            "StandardIAStorage": 0.0125,
            "OneZoneIAStorage": 0.01,
            "IntelligentTieringFAStorage": 0.023,
            "IntelligentTieringIAStorage": 0.0125,
            "IntelligentTieringAIAStorage": 0.004,
            "GlacierInstantRetrievalStorage": 0.004,
            "GlacierStorage": 0.0036,
            "DeepArchiveStorage": 0.00099,
        }
    )
    """USD per GB-month per S3 `StorageType` (us-east-1 list prices); a type without a price makes the figure `null`."""
    action: Literal["report", "apply"] = "report"
    """`apply` lets the advisor put the recommended rules on artefact buckets with no lifecycle configuration at all
    (never replacing one) whose environment tag is in `apply_environments`; `report` only recommends."""
    dry_run: bool = True
    """With `action: apply`, plan and audit only; set `false` to put the rules."""
    apply_environments: tuple[str, ...] = ("experiment",)
    """Environment tag values (key `tags.environment_key`) on which `action: apply` may put rules."""
    max_actions_per_run: int = Field(10, ge=1, le=500)
    """A plan with more lifecycle puts than this puts none and raises a critical alert instead."""


_MIX_TAGS: dict[str, tuple[str, ...]] = {"lifecycle_phase": ("training", "development")}


class AdvisorSettings(_Model):
    """Savings advisor: commitments, purchase mix, the weekly and monthly schedules."""

    min_utilisation_pct: float = Field(80.0, ge=0, le=100)
    """A reservation or Savings Plan used less than this (percent, last full month) raises a `commitment` warning."""
    expiry_warn_days: tuple[int, ...] = (60, 30)
    """Days before a commitment ends at which the operator is told, once per commitment and threshold."""
    stable_days: int = Field(90, ge=30, le=365)
    """Days a team's production inference spend must have been stable (Costwarden's own history) before a Savings
    Plan purchase is recommended for it."""
    stable_max_spread: float = Field(0.5, gt=0)
    """Stable means the spread between the 90th and 10th percentile days is at most this share of the median."""
    floor_quantile: float = Field(0.05, gt=0, lt=0.5)
    """The commitment is sized to this quantile of the stable days' spend (the floor), not the mean."""
    inference_phase: str = "inference"
    """Value of the cost monitor's second group key (`anomaly.second_group_key`) that marks inference spend."""
    plan_types: tuple[Literal["COMPUTE_SP", "SAGEMAKER_SP", "EC2_INSTANCE_SP"], ...] = ("COMPUTE_SP", "SAGEMAKER_SP")
    """Savings Plan types a purchase recommendation is asked for (one Cost Explorer request each)."""
    mix_environments: tuple[str, ...] = ("development", "experiment")
    """Environment tag values (key `tags.environment_key`) whose compute belongs in the purchase mix."""
    mix_tag_values: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(_MIX_TAGS))
    """Further tag key -> values whose compute belongs in the purchase mix (training runs in any environment)."""
    mix_days: int = Field(30, ge=7, le=90)
    """Days of spend the purchase mix looks at."""
    spot_discount: float | None = Field(None, gt=0, lt=1)
    """Spot discount on on-demand (0-1) used where the region has no spot price history for a type (SageMaker's
    `ml.*` types); `null`: such usage is reported without a price."""
    report_dimensions: tuple[str, ...] = ("model_id", "project", "lifecycle_phase")
    """Tag keys the monthly report breaks each team's cost down by (one Cost Explorer request each per month, except
    `anomaly.second_group_key`, read from the daily cache)."""
    report_bucket_days: int = Field(400, ge=30, le=3650)
    """Days HTML reports are kept in the report bucket."""
    weekday: Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] = "MON"
    """Day of the week of the advisor run (storage, commitments, purchase mix)."""
    hour_utc: int = Field(6, ge=0, le=23)
    """Hour (UTC) of the weekly advisor run and of the monthly report on the 1st."""

    @field_validator("expiry_warn_days")
    @classmethod
    def _positive_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d <= 0 for d in value):
            raise ValueError("expiry_warn_days must be positive days")
        return tuple(sorted(set(value), reverse=True))


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
    teams: dict[TeamName, TeamSettings] = Field(default_factory=dict)
    """The team directory: per-team data keyed by `team` tag value. Written in `cdk.json` like every setting, but
    shipped to the functions as its own document (a JSON file in a Lambda layer, `COSTWARDEN_TEAMS_FILE`), not in
    the 4 KB environment: 1,000 teams and more deploy. Teams not listed are still watched, without a budget."""
    storage: StorageSettings = StorageSettings()
    """Savings advisor: artefact buckets, their lifecycle rules, prices and the opt-in apply."""
    advisor: AdvisorSettings = AdvisorSettings()
    """Savings advisor: commitments, purchase mix and its schedule."""
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


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the key and says what was expected."""


#: A key the user wrote is shown by name only when it is a plain name (tag keys, team names, field typos).
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:/@+=\- ]{1,64}")
#: Longest value repr an error shows; longer ones are summarised.
_MAX_SHOWN = 80


def _plain(text: str) -> bool:
    return _PLAIN_KEY.fullmatch(text) is not None and redact(text) == text


def _where(raw: Any, loc: tuple[int | str, ...], prefix: str) -> str:
    """``prefix.a.b[2]``; a key of the input that is not a plain name is named by position (``[key 3]``), never by
    its text: a webhook URL pasted as a key is as secret as one pasted as a value."""
    path, node = prefix, raw
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            node = node[part] if isinstance(node, list | tuple) and 0 <= part < len(node) else None
        elif isinstance(node, Mapping) and part in node:
            path += f".{part}" if _plain(part) else f"[key {list(node).index(part)}]"
            node = node[part]
        elif part == "[key]":  # pydantic's label for an error in a mapping's key itself
            path += " (the key)"
        else:  # a field the model names (a missing key) or pydantic's own label: not the user's text
            path += f".{part}"
    return path


def _shown(value: Any) -> str:
    """What an error says it got: the value when it is plain, a description when it might be a secret."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str | Mapping | list | tuple):
        shown = repr(value)
        if redact(shown) != shown:
            return "a value holding a URL or token, not shown"
        if len(shown) <= _MAX_SHOWN and shown.isprintable():
            return shown
        return f"a {type(value).__name__} of length {len(value)}"
    return type(value).__name__


def _describe(error: ValidationError, prefix: str, raw: Any) -> str:
    """One line per problem: where (by key name, or by position for keys that are not plain names), what is
    wrong, and the value when it is safe to print. Never a webhook-looking value, key or message (issue 9)."""
    lines = []
    errors = error.errors()
    for item in errors[:MAX_ERRORS_SHOWN]:
        where = _where(raw, tuple(item["loc"]), prefix)
        lines.append(f"  {where}: {redact(item['msg'])} (got {_shown(item.get('input'))})")
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "invalid Costwarden settings:\n" + "\n".join(lines)


def parse_settings(raw: Mapping[str, Any] | None, *, source: str = CONTEXT_KEY) -> Settings:
    """Validate a raw mapping (cdk.json context or decoded env JSON) into ``Settings`` or raise ``SettingsError``."""
    data = dict(raw or {})
    problem = ""
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        problem = _describe(error, source, data)
    if problem:  # raised outside the ``except``: pydantic's error (with every input) must not ride along as context
        raise SettingsError(problem)
    size = len(settings.to_env().encode())
    if size > MAX_SETTINGS_ENV_BYTES:
        raise SettingsError(
            f"{source}: settings take {size} bytes as an environment variable; Lambda allows 4 KB in all. "
            "Shorten budgets or tag lists."
        )
    return settings


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Settings for a running function or CLI, read once per container (or process).

    ``COSTWARDEN_SETTINGS`` if set, else the defaults; plus the team directory from the document named by
    ``COSTWARDEN_TEAMS_FILE`` when that is set (a deployed function: the file in its layer). The directory has one
    source: a document and ``teams`` (or ``budgets.monthly_usd``) in the variable together are an error.
    """
    raw_text = os.environ.get(SETTINGS_ENV_VAR, "")
    problem = ""
    try:
        raw = json.loads(raw_text) if raw_text else {}
    except json.JSONDecodeError as error:  # its ``doc`` is the whole variable: raise ours outside the ``except``
        problem = f"{SETTINGS_ENV_VAR} is not valid JSON (line {error.lineno}, column {error.colno})"
    if problem:
        raise SettingsError(problem)
    if not isinstance(raw, dict):
        raise SettingsError(f"{SETTINGS_ENV_VAR} must be a JSON object, got {type(raw).__name__}")
    path = os.environ.get(team_document.TEAMS_FILE_ENV_VAR, "")
    if not path:
        return parse_settings(raw, source=SETTINGS_ENV_VAR)
    budgets = raw.get("budgets")
    if "teams" in raw or (isinstance(budgets, dict) and "monthly_usd" in budgets):
        raise SettingsError(
            f"team data is given twice: in {SETTINGS_ENV_VAR} and in the document {team_document.TEAMS_FILE_ENV_VAR} "
            "names; keep one (deployed functions read the document)"
        )
    try:
        teams = team_document.read_document(path)
    except team_document.TeamDocumentError as error:
        raise SettingsError(str(error)) from None
    return parse_settings({**raw, "teams": teams}, source=path)
