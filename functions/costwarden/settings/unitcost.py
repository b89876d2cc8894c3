"""Unit costs' settings: regression thresholds, the zero-denominator rule and custom denominators per model."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from costwarden.settings._base import _Model, matching

_METRIC_PART = re.compile(r"[A-Za-z0-9_.\-/:#]{1,255}")
_METRIC_RULE = "a CloudWatch namespace, metric or dimension name: 1-255 letters, digits and _ . - / : #"
MetricPart = Annotated[str, matching(_METRIC_PART, _METRIC_RULE)]
ModelName = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]


class CustomDenominator(_Model):
    """A business outcome a model's cost is divided by (transactions scored, documents processed): one CloudWatch
    metric, summed per day."""

    namespace: MetricPart
    """CloudWatch namespace of the metric (`FraudService`)."""
    metric: MetricPart
    """Metric name (`TransactionsScored`)."""
    dimensions: dict[MetricPart, Annotated[str, StringConstraints(min_length=1, max_length=1024)]] = Field(
        default_factory=dict, max_length=30
    )
    """Dimension name -> value of the one series to read (CloudWatch allows 30)."""
    unit: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,40}$")] = "1k_outcomes"
    """The unit the cost is given per (`1k_transactions`): per 1,000 of the metric when it starts with `1k_`, per
    one otherwise."""


class UnitCostSettings(_Model):
    """Unit costs per model, training run and token, and their efficiency regressions."""

    enabled: bool = False
    """Deploy the daily unit-cost function (docs/unitcost.md, "Deploying"): it reads the bill's line items through
    the Athena path, so it needs `cost_source: athena` with a CUR 2.0 export (synth refuses it otherwise). Off, the
    CLI (`costwarden unit-costs --cur FILE`) still works from a downloaded export."""

    warn_ratio: float = Field(1.5, gt=1)
    """A unit cost at this multiple of its own baseline, while its denominator is not falling, is a warning."""
    critical_ratio: float = Field(2.0, gt=1)
    """... and critical from this multiple."""
    baseline_days: int = Field(30, ge=7, le=90)
    """Days of unit costs a day is compared with (the cost monitor's robust, weekday-aware baseline)."""
    min_history_days: int = Field(7, ge=3, le=60)
    """Days of unit costs a model needs before it is judged."""
    falling_share: float = Field(0.2, gt=0, lt=1)
    """The denominator counts as falling when the day's is below (1 - this) x its baseline: then a higher unit cost
    is fewer requests sharing a fixed cost, not an efficiency regression."""
    min_daily_cost_usd: float = Field(10.0, ge=0)
    """A regression is raised only when the model's cost that day is at least this (USD): a doubled cost per
    prediction of a 50-cent endpoint is not worth a human's minute."""
    zero_lookback_days: int = Field(7, ge=1, le=30)
    """Days a denominator must be zero throughout, with cost on each of them, to make an idle finding."""
    digest_move_share: float = Field(0.25, gt=0, le=10)
    """The digest shows a unit cost that moved by at least this share (0.25: 25 %) from its baseline yesterday."""
    model_key: str = Field("model_id", min_length=1, max_length=128)
    """Tag key (CUR `resource_tags`) naming the model an endpoint, training job or inference profile serves; a
    resource without it is its own model (its name)."""
    custom_denominators: dict[ModelName, CustomDenominator] = Field(default_factory=dict, max_length=500)
    """Per model: a CloudWatch metric to divide its cost by instead of (besides) its invocations."""

    @model_validator(mode="after")
    def _critical_above_warning(self) -> UnitCostSettings:
        if self.critical_ratio < self.warn_ratio:
            raise ValueError(f"critical_ratio ({self.critical_ratio}) must be at least warn_ratio ({self.warn_ratio})")
        if self.min_history_days > self.baseline_days:
            raise ValueError(
                f"min_history_days ({self.min_history_days}) cannot exceed baseline_days ({self.baseline_days})"
            )
        return self
