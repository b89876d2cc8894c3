"""The reaper: an hourly ``CostwardenFunction`` whose role is built from the reaper's registry declarations.

The role (``costwarden.resources.iam.policy_statements``) allows each destructive action only on its resource ARN
pattern in the configured regions, only on resources carrying ``expires_at`` and not carrying
``costwarden:protect=true``, and explicitly denies those actions on protected (and, unless allowed, production)
resources — so even a bug in the reaper cannot terminate what the tags protect. The timeout is kept below the
schedule's rate, so two scheduled runs never overlap (reserved concurrency would do it too, but a reservation fails
deployment on new accounts whose concurrency limit is 10); no automatic retries of a failed run (the next run
retries, idempotently). The read-only statement also holds the Price List read (``pricing:GetProducts``, on
``*`` as the idle finder's): the reaped alert says what the run saves per month (issue 22); the price snapshot is in
the state table, which every function reads and writes. With ``burn.enabled`` the same statement gains the spot
price read (``ec2:DescribeSpotPriceHistory``): the hourly inventory seeds the burn guard's rate (docs/burn.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct
from costwarden.idle.checks.base import PRICE_READ
from costwarden.resources.iam import policy_statements
from costwarden.settings import Settings

from infra import nag
from infra.burn import PRICE_READS
from infra.function import CoreResources
from infra.scheduled import JobSpec, ScheduledJob

REAPER_HANDLER = "costwarden.handlers.reaper.handler"
REAPER_MAX_TIMEOUT_MINUTES = 10
REAPER_MEMORY_MB = 512
REAPER_READS_REASON = (
    "The reaper's read-only statement lists and describes resources (tag:GetResources, ec2:Describe*, ...) and reads "
    "the Price List (pricing:GetProducts) to say what a reap saves (with burn.enabled also the spot price history, "
    "ec2:DescribeSpotPriceHistory, to seed the burn rate); none of these actions supports resource-level "
    "permissions, so '*' is the only resource IAM accepts; every destructive action is in separate scoped statements."
)
nag.record_reasons(nag.XRAY_WILDCARD, REAPER_READS_REASON)


def reaper_statements(
    settings: Settings, *, partition: str, account: str, regions: Sequence[str]
) -> list[dict[str, Any]]:
    """The registry's statements (``resources.iam.policy_statements``, shared with the member accounts' role) with
    the price reads added to their read-only statement: the Price List (the reaped alert's savings) always, the spot
    price history only with ``burn.enabled`` (the burn snapshot prices spot instances at their market)."""
    statements = policy_statements(settings, partition=partition, account=account, regions=regions)
    (read,) = [s for s in statements if s["Sid"] == "ReaperReadOnly"]
    prices = PRICE_READS if settings.burn.enabled else (PRICE_READ,)
    read["Action"] = sorted({*read["Action"], *prices})
    return statements


def reaper_spec(settings: Settings) -> JobSpec:
    rate = settings.schedules.reaper_rate_minutes
    return JobSpec(
        service_name="reaper",
        handler=REAPER_HANDLER,
        description="Warns about, then stops/terminates/deletes resources past their expires_at tag (capped)",
        timeout=Duration.minutes(min(REAPER_MAX_TIMEOUT_MINUTES, rate - 1)),
        memory_size=REAPER_MEMORY_MB,
        statements=reaper_statements,
        policy_id="ReaperPolicy",
        scoped_reason=nag.REAPER_SCOPED_WILDCARD_REASON,
        star_reason=REAPER_READS_REASON,
        schedule=events.Schedule.rate(Duration.minutes(rate)),
        rule_id="Schedule",
        rule_description="Costwarden reaper: hourly by default (settings.schedules.reaper_rate_minutes)",
    )


class Reaper(ScheduledJob):
    """Attributes: ``function`` (``CostwardenFunction``), ``policy`` (the registry-built policy), ``rule``
    (``None`` in organization mode: the organization run starts it, one schedule per job)."""

    def __init__(self, scope: Construct, construct_id: str, *, core: CoreResources, scheduled: bool = True) -> None:
        super().__init__(scope, construct_id, core=core, spec=reaper_spec(core.settings), scheduled=scheduled)
