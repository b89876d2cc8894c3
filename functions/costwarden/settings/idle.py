"""The idle finder's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from costwarden.settings._base import (
    _Model,
)


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
    """A team's idle alert is a warning from this much monthly waste (USD), info below: it goes to the team's channel
    and the digest."""
    oncall_above_usd_month: float = Field(1000.0, ge=0)
    """A team's idle alert is critical, and pages on-call, only from this much monthly waste (USD, at the measured
    rate) idle for a day or more; shorter idle spells (an EMR cluster judged on its last hours) never page. Must be
    >= `warning_usd`."""
    price_cache_days: int = Field(30, ge=1, le=90)
    """Days an on-demand price from the AWS Price List API is cached in the state table."""
    schedule_hour_utc: int = Field(6, ge=0, le=23)
    """Hour (UTC) of the daily idle scan; the per-team alert is sent once a week."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, raw: object) -> object:
        if isinstance(raw, dict) and "critical_usd" in raw:
            raise ValueError(
                "idle.critical_usd was renamed idle.oncall_above_usd_month (an idle alert pages on-call only from "
                "that much monthly waste idle for a day or more)"
            )
        return raw

    @model_validator(mode="after")
    def _ordered(self) -> IdleSettings:
        if self.oncall_above_usd_month < self.warning_usd:
            raise ValueError("oncall_above_usd_month must be >= warning_usd")
        return self


ACCOUNT_ID_PATTERN = r"^\d{12}$"
OU_ID_PATTERN = r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$"
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,52}$"
