"""Digest inputs of any size: a realistic fleet, deterministic (no randomness), with long names on request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from costwarden.digest.model import (
    DigestInput,
    ExpiringResource,
    OpenAnomaly,
    ReaperActivity,
    ReaperDecision,
    TeamRow,
    UntaggedShare,
)

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
STATUSES = ("ON_TRACK", "AT_RISK", "OVER_BUDGET", "NO_BUDGET")


def team_row(
    name: str, mtd: float, *, status: str = "NO_BUDGET", yesterday: float = 100.0, baseline: float = 100.0
) -> TeamRow:
    budget = None if status == "NO_BUDGET" else mtd * {"ON_TRACK": 2.0, "AT_RISK": 1.05, "OVER_BUDGET": 0.8}[status]
    projected = mtd * 30 / 26
    return TeamRow(
        team=name,
        month_to_date_usd=mtd,
        budget_usd=budget,
        budget_status=status,  # type: ignore[arg-type]
        projected_month_end_usd=projected,
        forecast_low_usd=projected * 0.9,
        forecast_high_usd=projected * 1.1,
        yesterday_usd=yesterday,
        baseline_usd=baseline,
        change_ratio=yesterday / baseline if baseline else None,
    )


def fleet(teams: int, *, name_length: int = 0, anomalies: int = 0, expiring: int = 0, reaper: int = 0) -> DigestInput:
    """``teams`` teams with distinct spend; ``name_length`` pads names (AWS tag values go up to 256 characters)."""
    rows = []
    for n in range(teams):
        name = f"team-{n:04d}"
        if name_length:
            name = (name + "-" + "x" * name_length)[:name_length]
        rows.append(
            team_row(
                name,
                mtd=10_000.0 + 37.5 * ((n * 7919) % teams),
                status=STATUSES[n % 4],
                yesterday=300.0 + (n % 13) * 11.0,
                baseline=300.0,
            )
        )
    names = [row.team for row in rows] or ["team-0000"]
    return DigestInput(
        date=DAY,
        generated_at=NOW,
        teams=tuple(rows),
        anomalies=tuple(
            OpenAnomaly(
                team=names[n % len(names)],
                date=DAY - timedelta(days=n % 3),
                severity="critical" if n % 5 == 0 else "warning",
                ratio=1.6 + n % 4,
                impact_usd=60.0 + n,
                top_service="Amazon SageMaker" if n % 2 else "Amazon Elastic Compute Cloud - Compute",
            )
            for n in range(anomalies)
        ),
        untagged=UntaggedShare(share_pct=4.2, previous_share_pct=3.4, untagged_usd=1234.5, measured_on=DAY),
        reaper=ReaperActivity(
            dry_run=False,
            decisions=tuple(
                ReaperDecision(
                    resource=f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x}",
                    resource_type="ec2_instance",
                    team=names[n % len(names)],
                    action="terminate",
                    status=("done", "skipped", "failed", "planned")[n % 4],
                    reason="expired 2026-11-24" if n % 4 != 1 else "protected by costwarden:protect=true",
                    at=NOW - timedelta(hours=n % 24),
                )
                for n in range(reaper)
            ),
        ),
        expiring=tuple(
            ExpiringResource(
                resource=f"arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb-{n}",
                resource_type="sagemaker_notebook",
                team=names[n % len(names)],
                expires_at=NOW + timedelta(hours=1 + n % 71),
            )
            for n in range(expiring)
        ),
        estimated_dates=(DAY - timedelta(days=1), DAY),
        notes=("tag audit last ran 3 days ago",),
    )


@pytest.fixture
def make_fleet() -> Callable[..., DigestInput]:
    return fleet
