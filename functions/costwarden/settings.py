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
    experiment EC2 instances through the reaper's guards and cap, and attaches a deny-launch policy to the team's
    `slack.launch_roles`; *Lift* removes exactly what was attached. Needs the Slack app (`interact.enabled`)."""
    hard_limit_grace_hours: int = Field(2, ge=0, le=72)
    """Hours an `auto` hard limit waits for *Hold* before it is enforced."""
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


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{6,20}")
_SLACK_GROUP = re.compile(r"S[A-Z0-9]{6,20}")


def _slack_user(value: str) -> str:
    if not _SLACK_USER.fullmatch(value):
        raise ValueError("a Slack user id is U... or W... (upper-case letters and digits)")
    return value


def _slack_group(value: str) -> str:
    if not _SLACK_GROUP.fullmatch(value):
        raise ValueError("a Slack user group id is S... (upper-case letters and digits)")
    return value


#: A Slack user id (``U024BE7LH`` or, on Enterprise Grid, ``W...``).
SlackUser = Annotated[str, AfterValidator(_slack_user)]
#: A Slack user group id (``S0614TZR7``); its members are read with ``usergroups.users.list``.
SlackGroup = Annotated[str, AfterValidator(_slack_group)]


class TeamSlackSettings(_Model):
    """Who may press a button on this team's alerts, and where (issue 13). The team's `owners` that are Slack user
    or group ids count too; these fields add members who are not owners."""

    users: tuple[SlackUser, ...] = ()
    """Slack user ids (`U...`/`W...`) who may act on the team's alerts besides the Slack ids in `owners`."""
    groups: tuple[SlackGroup, ...] = ()
    """Slack user group ids (`S...`) whose members may act on the team's alerts (resolved with the bot token)."""
    launch_roles: tuple[str, ...] = ()
    """IAM role names the team launches resources with: the hard limit attaches its deny-launch policy to them."""


class InteractSettings(_Model):
    """The Slack app (optional): buttons on alerts and the `/costwarden` slash command. Webhooks work without it."""

    enabled: bool = False
    """Render action buttons on alerts and deploy the interactivity endpoint. Off: plain webhook messages."""
    app_secret_name: str = "costwarden/slack-app"  # noqa: S105 - a name, not a secret
    """Name of the Secrets Manager secret holding the app's `signing_secret` and `bot_token` (JSON); never the
    values themselves."""
    oncall_users: tuple[SlackUser, ...] = ()
    """Slack user ids of the on-call engineers: they may act on every team's alerts."""
    oncall_groups: tuple[SlackGroup, ...] = ()
    """Slack user group ids of on-call: their members may act on every team's alerts."""
    max_request_age_seconds: int = Field(300, ge=30, le=300)
    """Requests signed longer ago than this are refused (Slack's replay window: at most 5 minutes)."""
    reserved_concurrency: int = Field(5, ge=1, le=100)
    """Reserved concurrency of the interactivity function: the endpoint's throttle (a flood cannot starve the
    account's other functions, nor run up cost)."""

    @field_validator("app_secret_name")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if value.startswith(("http://", "https://", "xox")) or not re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", value):
            raise ValueError("give the secret's name (letters, digits, /_+=.@-), never a token or URL")
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
    slack: TeamSlackSettings = TeamSlackSettings()
    """Who may act on the team's alerts from Slack (besides its Slack-id owners and on-call), and its launch roles."""
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
    prefix_patterns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Bucket-name pattern (shell style; `*` for every bucket) -> key prefixes holding artefacts inside buckets that
    are not artefact buckets as a whole, e.g. `{"ml-data-*": ["experiments/", "checkpoints/"]}`. Such buckets get
    rules scoped with `Filter.Prefix`, sized by listing the objects under the prefixes (at most
    `prefix_max_objects`). Each matching bucket costs a tagging, a lifecycle and a listing request per prefix:
    narrow the pattern on accounts with many buckets."""
    prefix_max_objects: int = Field(20_000, ge=1_000, le=1_000_000)
    """Objects listed under one bucket's artefact prefixes (1,000 per request) before its size is reported as
    unknown (`null`) rather than undercounted."""
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

    @field_validator("prefix_patterns")
    @classmethod
    def _literal_prefixes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        # S3's Filter.Prefix is literal: a glob here would silently match nothing.
        for pattern, prefixes in value.items():
            if not pattern:
                raise ValueError("prefix_patterns: empty bucket-name pattern (use `*` for every bucket)")
            if not prefixes:
                raise ValueError(f"prefix_patterns[{pattern!r}]: no key prefixes")
            for prefix in prefixes:
                if not prefix:
                    raise ValueError(
                        f"prefix_patterns[{pattern!r}]: an empty prefix is the whole bucket (use name_patterns)"
                    )
                if any(c in prefix for c in "*?["):
                    raise ValueError(
                        f"prefix_patterns[{pattern!r}]: {prefix!r} is a pattern; S3 lifecycle prefixes are literal"
                    )
        return {k: tuple(dict.fromkeys(v)) for k, v in value.items()}


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


class IdleSettings(_Model):
    """The idle finder: which signals make a resource idle, how findings are priced, and whether it hands idle
    development/experiment resources to the reaper (opt-in)."""

    action: Literal["report", "expire"] = "report"
    """`report` idle resources to their teams, or also `expire` them: tag idle development/experiment resources
    (never production or protected) with the expiry tag = now + `grace_days` and a marker, so the reaper warns and
    then acts."""
    lookback_days: int = Field(7, ge=1, le=30)
    """Days of metrics a resource is judged over; a resource younger than this is not judged."""
    threshold_percent: float = Field(15.0, gt=0, lt=100)
    """CPU/GPU utilisation (hourly average, %) below which an hour counts as idle."""
    min_busy_hours: int = Field(2, ge=1, le=720)
    """Hours at or above `threshold_percent` within the lookback that make a resource busy (a nightly 2-hour job is
    busy, not idle)."""
    min_coverage: float = Field(0.5, gt=0, le=1)
    """Share of the lookback's hours that must have data points before a resource is judged (missing data is never
    read as idle)."""
    gpu_families: tuple[str, ...] = ("p", "g", "inf", "trn", "dl")
    """EC2 instance families (the letters before the generation digit) judged by their GPU/accelerator metrics."""
    gpu_namespace: str = "CWAgent"
    """CloudWatch namespace of the GPU metrics (the CloudWatch agent's default)."""
    gpu_metrics: tuple[str, ...] = ("nvidia_smi_utilization_gpu", "DCGM_FI_DEV_GPU_UTIL")
    """GPU utilisation metric names (%), per GPU: the agent's nvidia_smi collection and DCGM where present."""
    endpoint_underused_per_day: float = Field(100.0, ge=0)
    """A SageMaker endpoint with fewer invocations than this per day on average (but some) is `underused`."""
    emr_idle_hours: int = Field(2, ge=1, le=72)
    """An EMR cluster whose `IsIdle` metric is 1 throughout this many last hours is idle."""
    volume_unattached_days: int = Field(7, ge=1, le=365)
    """An EBS volume unattached (`available`) for longer than this many days since creation is reported."""
    stopped_days: int = Field(7, ge=1, le=365)
    """An EC2 instance stopped for longer than this many days is reported (it still pays for its volumes)."""
    grace_days: int = Field(3, ge=1, le=30)
    """With `action: expire`, the expiry given to an idle resource: now + this many days."""
    marker_key: str = "costwarden:idle"
    """Tag key of the marker written next to the expiry by `action: expire` (its value says which expiry it set and
    why); only expiries carrying this marker are removed when the resource becomes busy again."""
    expected_idle_key: str = "costwarden:expected-idle"
    """Tag key that marks a resource as expected to be idle (value `true`): it is not reported."""
    warning_usd: float = Field(100.0, ge=0)
    """A team's idle alert is a warning from this much monthly waste (USD), info below."""
    critical_usd: float = Field(1000.0, ge=0)
    """A team's idle alert is critical from this much monthly waste (USD); must be >= `warning_usd`."""
    price_cache_days: int = Field(30, ge=1, le=90)
    """Days an on-demand price from the AWS Price List API is cached in the state table."""
    schedule_hour_utc: int = Field(6, ge=0, le=23)
    """Hour (UTC) of the daily idle scan; the per-team alert is sent once a week."""

    @model_validator(mode="after")
    def _ordered(self) -> IdleSettings:
        if self.critical_usd < self.warning_usd:
            raise ValueError("critical_usd must be >= warning_usd")
        return self


ACCOUNT_ID_PATTERN = r"^\d{12}$"
OU_ID_PATTERN = r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$"
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,52}$"


class AthenaSettings(_Model):
    """Where the cost monitor reads cost when `cost_source` is `athena`: a CUR 2.0 or FOCUS 1.x Data Export in S3,
    a Glue table over it, an Athena workgroup with a bytes-scanned limit."""

    export_format: Literal["cur2", "focus"] = "cur2"
    """Format of the Data Export the Glue table reads: `cur2` (CUR 2.0 columns) or `focus` (FOCUS 1.x columns)."""
    database: str = Field("costwarden_cost", pattern=r"^[a-z0-9_]{1,255}$")
    """Glue database holding the export's table (created by the stack unless it exists)."""
    table: str = Field("cost_export", pattern=r"^[a-z0-9_]{1,255}$")
    """Glue table over the export, partitioned by `billing_period` (`YYYY-MM`), the Data Export's own layout."""
    workgroup: str = Field("costwarden", pattern=r"^[A-Za-z0-9._-]{1,128}$")
    """Athena workgroup the queries run in; its bytes-scanned limit stops a runaway query."""
    bytes_scanned_cutoff_mb: int = Field(10_240, ge=10, le=1_048_576)
    """Per-query bytes-scanned limit of the workgroup, in MB (Athena cancels a query past it)."""
    export_bucket: str | None = None
    """Bucket of an existing Data Export; `null`: the stack creates the bucket and the export."""
    poll_seconds: float = Field(1.0, gt=0, le=30)
    """Seconds between `GetQueryExecution` polls while a query runs."""
    max_wait_seconds: int = Field(240, ge=10, le=840)
    """A query still running after this many seconds is cancelled and the run fails (Lambda's limit is 900 s)."""


class OrganizationSettings(_Model):
    """One deployment guarding every account of an AWS Organization: member roles by StackSet, fan-out by Step
    Functions. Off by default: the deployment guards its own account only."""

    enabled: bool = False
    """Guard the organization's member accounts (management or delegated administrator account deployment)."""
    organization_id: str | None = Field(None, pattern=r"^o-[a-z0-9]{10,32}$")
    """The organization's id (`o-...`): member roles trust the central functions only with this `aws:PrincipalOrgID`.
    Required when `enabled`."""
    member_role_name: str = Field("costwarden-member", pattern=ROLE_NAME_PATTERN)
    """Base name of the roles the StackSet creates in each member account: `<name>-read` (plan, audit) and
    `<name>-reaper` (act)."""
    accounts: str | tuple[str, ...] = "all"
    """Accounts guarded: `all` (every active account), or a list of 12-digit account ids and OU/root ids (an OU
    includes the accounts of its child OUs)."""
    exclude_accounts: tuple[str, ...] = ()
    """Account ids never guarded (never listed, never assumed into), whatever `accounts` says."""
    deployment_targets: tuple[str, ...] = ()
    """OU or root ids the StackSet deploys the member roles to (auto-deployment to accounts joining them). Required
    when `enabled`."""
    regions: tuple[str, ...] = ()
    """Regions scanned in every member account; empty means `reaper.regions` (else the deployment region)."""
    max_actions_per_account: int = Field(10, ge=1, le=1000)
    """Per-account blast-radius cap: an account whose plan has more actions acts on nothing; the global cap is
    `reaper.max_actions_per_run`, checked over all accounts before any account is touched."""
    max_concurrency: int = Field(10, ge=1, le=1000)
    """Account x region items the Step Functions Distributed Map runs at once (bounded: AWS API limits are per
    account, but Organizations and STS calls are shared)."""
    athena: AthenaSettings = AthenaSettings()
    """The Athena side of `cost_source: athena`."""

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if isinstance(value, str):
            if value != "all":
                raise ValueError("accounts must be 'all' or a list of account ids / OU ids")
            return value
        if not value:
            raise ValueError("accounts must not be an empty list (use 'all')")
        bad = [v for v in value if not (re.match(ACCOUNT_ID_PATTERN, v) or re.match(OU_ID_PATTERN, v))]
        if bad:
            raise ValueError(f"not a 12-digit account id, OU id (ou-...) or root id (r-...): {bad}")
        return tuple(dict.fromkeys(value))

    @field_validator("exclude_accounts")
    @classmethod
    def _excluded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not re.match(ACCOUNT_ID_PATTERN, v)]
        if bad:
            raise ValueError(f"not a 12-digit account id: {bad}")
        return value

    @field_validator("deployment_targets")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if not re.match(OU_ID_PATTERN, v)]
        if bad:
            raise ValueError(f"not an OU id (ou-...) or root id (r-...): {bad}")
        return value

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OrganizationSettings:
        if self.enabled and not self.organization_id:
            raise ValueError("organization_id is required when enabled (member roles trust aws:PrincipalOrgID)")
        if self.enabled and not self.deployment_targets:
            raise ValueError("deployment_targets must name at least one OU or root id when enabled")
        return self


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
    def _hard_limit_needs_the_app(self) -> Settings:
        """Enforce / Hold / Lift are buttons: a hard limit without the Slack app could never be pressed."""
        opted = sorted(team for team, mode in self.budgets.hard_limit.items() if mode != "off")
        if opted and not self.interact.enabled:
            raise ValueError(
                f"budgets.hard_limit is on for {len(opted)} team(s), first {opted[0]!r}, but interact.enabled is "
                "false: the hard limit is enforced from Slack; enable the app or set the team to off"
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
