"""Demo chapter 1: the alert bus itself. One alert of each severity goes through the alert topic to Slack.

It shows the routing rules on the way: an info for a team with its own channel, a warning for a team without one
(it falls back to the default channel), and a critical alert, which also goes to on-call. Slack rate-limits one post
(the notifier waits ``Retry-After`` and retries) and the critical alert is published twice (posted once).
"""

from __future__ import annotations

from datetime import UTC, datetime

from costwarden.demo.env import DemoEnv
from costwarden.demo.slack_standin import StandInResponse
from costwarden.demo.timeline import SAMPLES_AT
from costwarden.models.alert import AlertEvent, AlertKind, Severity


def demo_alerts(now: datetime | None = None) -> list[AlertEvent]:
    """The chapter's three alerts: info, warning, critical."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    day = at.date().isoformat()
    return [
        AlertEvent(
            kind=AlertKind.FORECAST,
            severity=Severity.INFO,
            team="vision",
            title="vision: month on track at 71% of budget",
            summary="Month-to-date 6,120 USD; forecast 14,200 USD against a 20,000 USD budget.",
            details={"figures": {"Month to date": "6,120 USD", "Forecast": "14,200 USD", "Budget": "20,000 USD"}},
            dedup_key=f"demo#forecast#vision#{day}",
            occurred_at=at,
        ),
        AlertEvent(
            kind=AlertKind.EXPIRY_WARNING,
            severity=Severity.WARNING,
            team="speech",
            title="speech: 2 experiment resources expire within 24 hours",
            summary="They will be stopped or deleted after their expires_at passes. Extend the tag to keep them.",
            details={
                "figures": {"Resources": "2", "Expire in": "< 24 h"},
                "items": [
                    "ec2 i-0a1b2c3d4e5f60718 (g5.2xlarge) expires 2026-11-21",
                    "sagemaker notebook asr-finetune expires 2026-11-21",
                ],
            },
            dedup_key=f"demo#expiry_warning#speech#{day}#24h",
            occurred_at=at,
        ),
        AlertEvent(
            kind=AlertKind.COST_ANOMALY,
            severity=Severity.CRITICAL,
            team="nlp",
            title="nlp: spend 2.6x its baseline yesterday",
            summary="nlp spent 4,210 USD yesterday against a 30-day baseline of 1,620 USD (+2,590 USD).",
            details={
                "figures": {"Spend": "4,210 USD", "Baseline": "1,620 USD", "Ratio": "2.6x", "Impact": "+2,590 USD"},
                "items": ["Amazon SageMaker +2,310 USD", "Amazon EC2 +240 USD", "Amazon S3 +40 USD"],
            },
            dedup_key=f"demo#cost_anomaly#nlp#{day}",
            occurred_at=at,
        ),
    ]


def chapter(env: DemoEnv) -> None:
    # Slack rate-limits the first post to #vision: the notifier waits Retry-After (1 s here; Slack says 30) and retries.
    env.slack.script(env.slack_paths["team:vision"], StandInResponse.rate_limited(retry_after=1))
    env.say(
        "Simulated: four hand-written sample alerts published to the alert topic (SNS), the way the cost monitor, "
        "the reaper and the tag audit publish theirs. The notifier routes each one by team and severity: the team's "
        "channel, critical ones also to on-call, alerts without a team to the default channel."
    )
    env.say(
        "In your account SNS invokes the notifier Lambda within seconds; here the demo hands it each delivery. "
        "The repeated alert (a producer's retry) is posted once; Slack rate-limiting the first post (429, "
        "Retry-After: 1 s) is waited out and retried."
    )
    env.say("")
    alerts = demo_alerts(SAMPLES_AT)
    for event in alerts:
        env.publish(event)
        env.say(f"  published [{event.severity.value}] {event.title}  (team {event.team}, kind {event.kind.value})")
    # A producer that retries its publish sends the same alert again: the notifier must not post it twice.
    critical = alerts[-1]
    env.publish(critical)
    env.say(f"  published [{critical.severity.value}] {critical.title} AGAIN (same dedup key: a producer's retry)")
