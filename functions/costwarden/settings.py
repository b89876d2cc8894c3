"""The one typed configuration of Costwarden (DESIGN.md, "Configuration").

Read from ``cdk.json`` context (key ``costwarden``) at synth, validated there so that a bad value fails
``cdk synth`` with a message naming the key, and handed to every function as one JSON environment variable
(``COSTWARDEN_SETTINGS``). A function that starts without it fails at import, loudly, not on its first schedule.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SETTINGS_ENV_VAR = "COSTWARDEN_SETTINGS"
CONTEXT_KEY = "costwarden"
#: Lambda caps all environment variables of a function at 4 KB together; keep room for Powertools' own.
MAX_SETTINGS_ENV_BYTES = 3_000


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
            "lifecycle_phase": ("research", "training", "evaluation", "inference", "retired"),
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


class BudgetSettings(_Model):
    """Monthly USD budget per team, and where ON_TRACK turns into AT_RISK and OVER_BUDGET."""

    monthly_usd: dict[str, float] = Field(default_factory=dict)
    """Monthly budget in USD per team (team tag value -> amount); teams not listed have no budget."""
    at_risk_ratio: float = Field(0.9, gt=0)
    """Projected month end above this share of the budget is AT_RISK."""
    over_budget_ratio: float = Field(1.1, gt=0)
    """Projected month end above this share of the budget is OVER_BUDGET; must be above `at_risk_ratio`."""

    @field_validator("monthly_usd")
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

    @field_validator("slack_secret_name")
    @classmethod
    def _name_not_url(cls, value: str) -> str:
        if value.startswith(("http://", "https://")):
            raise ValueError("give the secret's name, never a webhook URL (the URL must not be in the template)")
        return value


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
    idle: IdleSettings = IdleSettings()
    """The idle finder: idle signals, pricing, per-team alerts and the opt-in hand-over to the reaper."""
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

    def to_env(self) -> str:
        """The compact JSON handed to functions in ``COSTWARDEN_SETTINGS``."""
        return self.model_dump_json(exclude_defaults=True)


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the key and says what was expected."""


def _describe(error: ValidationError, prefix: str) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in (prefix, *item["loc"]))
        lines.append(f"  {path}: {item['msg']} (got {item.get('input')!r})")
    return "invalid Costwarden settings:\n" + "\n".join(lines)


def parse_settings(raw: Mapping[str, Any] | None, *, source: str = CONTEXT_KEY) -> Settings:
    """Validate a raw mapping (cdk.json context or decoded env JSON) into ``Settings`` or raise ``SettingsError``."""
    try:
        settings = Settings.model_validate(dict(raw or {}))
    except ValidationError as error:
        raise SettingsError(_describe(error, source)) from None
    size = len(settings.to_env().encode())
    if size > MAX_SETTINGS_ENV_BYTES:
        raise SettingsError(
            f"{source}: settings take {size} bytes as an environment variable; Lambda allows 4 KB in all. "
            "Shorten budgets or tag lists."
        )
    return settings


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Settings for a running function or CLI: ``COSTWARDEN_SETTINGS`` if set, else the defaults."""
    raw = os.environ.get(SETTINGS_ENV_VAR, "")
    return parse_settings(json.loads(raw) if raw else {}, source=SETTINGS_ENV_VAR)
