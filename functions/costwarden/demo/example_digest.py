"""A realistic day of a mid-sized ML organisation, for the sample digest event, the docs and tests.

Twelve teams (one untagged bucket) on 2026-11-26: one team over budget after a runaway training fleet, two at risk,
a critical and a warning anomaly still open, the reaper's night, and three experiments expiring within 72 hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from costwarden.core.owner import UNOWNED_TEAM
from costwarden.models.digest import (
    DigestInput,
    ExpiringResource,
    IdleSummary,
    IdleTeam,
    OpenAnomaly,
    ReaperActivity,
    ReaperDecision,
    SavingsOnTable,
    TeamRow,
    UntaggedShare,
)

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 0, 12, tzinfo=UTC)
ACCOUNT = "123456789012"

# team, month to date, budget (None = no budget), yesterday, baseline
_TEAMS: tuple[tuple[str, float, float | None, float, float], ...] = (
    ("llm-pretrain", 182_340.0, 200_000.0, 9_870.0, 6_410.0),
    ("recsys", 64_210.0, 80_000.0, 2_480.0, 2_390.0),
    ("nlp", 41_880.0, 40_000.0, 4_210.0, 1_620.0),
    ("vision", 38_020.0, 50_000.0, 1_310.0, 1_450.0),
    ("speech", 22_470.0, 25_000.0, 1_190.0, 820.0),
    ("ranking", 19_930.0, None, 760.0, 740.0),
    ("ads-ml", 14_120.0, 30_000.0, 520.0, 560.0),
    (UNOWNED_TEAM, 9_880.0, None, 430.0, 350.0),
    ("fraud", 8_450.0, 12_000.0, 300.0, 310.0),
    ("forecasting", 5_210.0, 8_000.0, 160.0, 210.0),
    ("search", 3_960.0, None, 140.0, 130.0),
    ("platform", 2_240.0, 3_000.0, 75.0, 80.0),
)
_DAYS_IN_MONTH = 30
#: The synthetic fleet's clock (a round hour, so tests can state times exactly).
SYNTHETIC_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
_SYNTHETIC_STATUSES = ("ON_TRACK", "AT_RISK", "OVER_BUDGET", "NO_BUDGET")


def _row(team: str, mtd: float, budget: float | None, yesterday: float, baseline: float) -> TeamRow:
    remaining = _DAYS_IN_MONTH - DAY.day + 1
    projected = mtd + remaining * (0.6 * yesterday + 0.4 * baseline)
    status = "NO_BUDGET"
    if budget is not None:
        used = projected / budget
        status = "OVER_BUDGET" if used > 1.1 else "AT_RISK" if used > 0.9 else "ON_TRACK"
    return TeamRow(
        team=team,
        month_to_date_usd=mtd,
        budget_usd=budget,
        budget_status=status,
        projected_month_end_usd=round(projected, 2),
        forecast_low_usd=round(mtd + (projected - mtd) * 0.8, 2),
        forecast_high_usd=round(mtd + (projected - mtd) * 1.25, 2),
        yesterday_usd=yesterday,
        baseline_usd=baseline,
        change_ratio=round(yesterday / baseline, 3) if baseline else None,
    )


def example_input() -> DigestInput:
    ec2 = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/"
    sagemaker = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:"
    return DigestInput(
        date=DAY,
        generated_at=NOW,
        teams=tuple(_row(*team) for team in _TEAMS),
        anomalies=(
            OpenAnomaly(
                team="nlp",
                date=DAY - timedelta(days=1),
                severity="critical",
                ratio=2.6,
                impact_usd=2_590.0,
                top_service="Amazon SageMaker",
                estimated=True,
            ),
            OpenAnomaly(
                team="llm-pretrain",
                date=DAY - timedelta(days=1),
                severity="warning",
                ratio=1.54,
                impact_usd=3_460.0,
                top_service="Amazon Elastic Compute Cloud - Compute",
            ),
        ),
        untagged=UntaggedShare(share_pct=2.9, previous_share_pct=3.6, untagged_usd=2_870.0, measured_on=DAY),
        reaper=ReaperActivity(
            dry_run=False,
            decisions=(
                ReaperDecision(
                    resource=f"arn:aws:autoscaling:us-east-1:{ACCOUNT}:autoScalingGroup:1f2e3d4c-0000-4a5b-9c8d-"
                    "0123456789ab:autoScalingGroupName/nlp-sweep-42",
                    resource_type="autoscaling_group",
                    team="nlp",
                    action="delete",
                    status="done",
                    reason="expired since 2026-11-25 00:00 UTC",
                    at=NOW - timedelta(hours=8),
                ),
                ReaperDecision(
                    resource=f"{sagemaker}notebook-instance/asr-finetune-old",
                    resource_type="sagemaker_notebook",
                    team="speech",
                    action="stop",
                    status="done",
                    reason="expired since 2026-11-24 00:00 UTC",
                    at=NOW - timedelta(hours=8),
                ),
                ReaperDecision(
                    resource=f"{ec2}i-0c4d5e6f708192a3b",
                    resource_type="ec2_instance",
                    team="vision",
                    action="terminate",
                    status="skipped",
                    reason="expired, but termination protection is on",
                    at=NOW - timedelta(hours=1),
                ),
                ReaperDecision(
                    resource=f"{ec2}i-0d5e6f708192a3b4c",
                    resource_type="ec2_instance",
                    team="recsys",
                    action="terminate",
                    status="failed",
                    reason="UnauthorizedOperation: missing expires_at condition",
                    at=NOW - timedelta(hours=1),
                ),
            ),
        ),
        expiring=(
            ExpiringResource(
                resource=f"{ec2}i-0a1b2c3d4e5f60718",
                resource_type="ec2_instance",
                team="speech",
                expires_at=NOW + timedelta(hours=15),
            ),
            ExpiringResource(
                resource=f"{sagemaker}endpoint/ranker-canary",
                resource_type="sagemaker_endpoint",
                team="ranking",
                expires_at=NOW + timedelta(hours=39),
            ),
            ExpiringResource(
                resource=f"arn:aws:elasticmapreduce:us-east-1:{ACCOUNT}:cluster/j-2AXXXXXXGAPLF",
                resource_type="emr_cluster",
                team="recsys",
                expires_at=NOW + timedelta(hours=63),
            ),
        ),
        idle=IdleSummary(
            scanned_at=NOW - timedelta(hours=2),
            resources=9,
            waste_usd=31_412.55,
            other_usd=1_074.4,
            unpriced=1,
            teams={
                "llm-pretrain": IdleTeam(resources=2, waste_usd=23_924.0),
                "vision": IdleTeam(resources=3, waste_usd=4_467.6),
                "recsys": IdleTeam(resources=4, waste_usd=3_020.95),
            },
        ),
        estimated_dates=(DAY - timedelta(days=1),),
        notes=("Untagged share from the cost monitor's own pull (team tag empty), last 7 days",),
        savings=SavingsOnTable(teams={"vision": 4120.0, "nlp": 1830.5, "search": 612.0}, as_of=NOW),
    )


def synthetic_row(
    name: str, mtd: float, *, status: str = "NO_BUDGET", yesterday: float = 100.0, baseline: float = 100.0
) -> TeamRow:
    budget = None if status == "NO_BUDGET" else mtd * {"ON_TRACK": 2.0, "AT_RISK": 1.05, "OVER_BUDGET": 0.8}[status]
    projected = mtd * 30 / 26
    return TeamRow(
        team=name,
        month_to_date_usd=mtd,
        budget_usd=budget,
        budget_status=status,
        projected_month_end_usd=projected,
        forecast_low_usd=projected * 0.9,
        forecast_high_usd=projected * 1.1,
        yesterday_usd=yesterday,
        baseline_usd=baseline,
        change_ratio=yesterday / baseline if baseline else None,
    )


def synthetic_input(
    teams: int, *, name_length: int = 0, anomalies: int = 0, expiring: int = 0, reaper: int = 0
) -> DigestInput:
    """``teams`` teams with distinct, deterministic spend (no randomness) and the other lists as long as asked.

    ``name_length`` pads team names (AWS tag values go up to 256 characters): the sizes tests and the benchmark use.
    """
    rows = []
    for n in range(teams):
        name = f"team-{n:04d}"
        if name_length:
            name = (name + "-" + "x" * name_length)[:name_length]
        rows.append(
            synthetic_row(
                name,
                mtd=10_000.0 + 37.5 * ((n * 7919) % teams),
                status=_SYNTHETIC_STATUSES[n % 4],
                yesterday=300.0 + (n % 13) * 11.0,
                baseline=300.0,
            )
        )
    names = [row.team for row in rows] or ["team-0000"]
    return DigestInput(
        date=DAY,
        generated_at=SYNTHETIC_NOW,
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
                    at=SYNTHETIC_NOW - timedelta(hours=n % 24),
                )
                for n in range(reaper)
            ),
        ),
        expiring=tuple(
            ExpiringResource(
                resource=f"arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/nb-{n}",
                resource_type="sagemaker_notebook",
                team=names[n % len(names)],
                expires_at=SYNTHETIC_NOW + timedelta(hours=1 + n % 71),
            )
            for n in range(expiring)
        ),
        estimated_dates=(DAY - timedelta(days=1), DAY),
        notes=("tag audit last ran 3 days ago",),
    )


def sample_sns_record() -> dict[str, object]:
    """The example day's fleet digest as the notifier Lambda receives it (SNS -> Lambda envelope)."""
    from costwarden.adapters.sns import fit_to_sns, message_attributes, subject_for
    from costwarden.digest.compose import compose_digest

    event = fit_to_sns(compose_digest(example_input(), 15))
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:costwarden-alerts"
    subscription = f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "5d1f0c6e-2b7a-5f44-9c1e-7a0b3c9d2e41",
                    "TopicArn": topic,
                    "Subject": subject_for(event),
                    "Message": event.to_json(),
                    "Timestamp": "2026-11-26T09:00:13.021Z",
                    "SignatureVersion": "1",
                    "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-"
                    "0000000000000000000000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
                    + subscription,
                    "MessageAttributes": {
                        name: {"Type": "String", "Value": value["StringValue"]}
                        for name, value in message_attributes(event).items()
                    },
                },
            }
        ]
    }


if __name__ == "__main__":
    # Regenerates events/notifier/sns_daily_digest.json:
    #   .venv/bin/python -m costwarden.demo.example_digest > events/notifier/sns_daily_digest.json
    import json

    print(json.dumps(sample_sns_record(), indent=2, ensure_ascii=False))
