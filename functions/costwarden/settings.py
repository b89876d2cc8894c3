"""The one typed configuration of Costwarden (DESIGN.md, "Configuration").

Read from ``cdk.json`` context (key ``costwarden``) at synth, validated there so that a bad value fails
``cdk synth`` with a message naming the key, and handed to every function as one JSON environment variable
(``COSTWARDEN_SETTINGS``). A function that starts without it fails at import, loudly, not on its first schedule.
"""

from __future__ import annotations

import json
import os
import re
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
