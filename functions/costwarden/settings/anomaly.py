"""Anomaly detection settings (baselines, ratios, minimum impact)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from costwarden.settings._base import _Model


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
