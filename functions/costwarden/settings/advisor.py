"""Savings advisor settings: artefact storage and commitments."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
)

from costwarden.settings._base import (
    _Model,
)
from costwarden.settings.teams import (
    _ARTEFACT_TAGS,
)


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
