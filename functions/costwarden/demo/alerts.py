"""Demo chapter 1: the alert bus itself. One alert of each severity goes through the alert topic to Slack.

It shows the routing rules on the way: an info for a team with its own channel, a warning for a team without one
(it falls back to the default channel), and a critical alert, which also goes to on-call. Slack rate-limits one post
(the notifier waits ``Retry-After`` and retries) and the critical alert is published twice (posted once).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd

from costwarden.core.money import usd
from costwarden.cost import ledger
from costwarden.cost.detect import DetectParams
from costwarden.cost.frame import COST, DATE
from costwarden.demo import cost
from costwarden.demo.env import DemoEnv
from costwarden.demo.slack_standin import StandInResponse
from costwarden.demo.timeline import SAMPLES_AT
from costwarden.models.alert import AlertEvent, AlertKind, Severity


def _bill_facts(last_day: date) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The demo bill's team-level days through ``last_day``: the frame, each team's month to date, its baseline."""
    rows = [(d, t, c) for d, t, _phase, _service, c in cost.line_items() if d <= last_day.isoformat()]
    daily = pd.DataFrame(rows, columns=[DATE, "team", COST])
    daily[DATE] = pd.to_datetime(daily[DATE])
    daily = daily.groupby([DATE, "team"], as_index=False)[COST].sum()
    return daily, ledger.month_to_date(daily, last_day), ledger.baselines(daily, last_day, DetectParams())


def demo_alerts(now: datetime | None = None) -> list[AlertEvent]:
    """The chapter's three alerts: info, warning, critical; the cost figures are the demo bill's (``demo.bill``),
    through the ledger the cost monitor uses, so chapter 2 finds the same numbers for the same day."""
    at = (now or datetime.now(UTC)).replace(microsecond=0)
    day = at.date().isoformat()
    yesterday = at.date() - timedelta(days=1)
    daily, month_to_date, baseline = _bill_facts(yesterday)
    budget = cost.budgets_for(cost.line_items(), at.date())["vision"]
    heading = ledger.projection(float(month_to_date["vision"]), yesterday)
    spent = float(daily.loc[(daily[DATE] == pd.Timestamp(yesterday)) & (daily["team"] == "vision"), COST].sum())
    usual = float(baseline["vision"])
    ratio, extra = spent / usual, spent - usual
    by_service: dict[str, float] = {}
    for d, team, _phase, service, amount in cost.line_items():
        if d == yesterday.isoformat() and team == "vision":
            by_service[service] = by_service.get(service, 0.0) + amount
    return [
        AlertEvent(
            kind=AlertKind.FORECAST,
            severity=Severity.INFO,
            team="vision",
            title=f"vision: month on track at {heading.projected_usd / budget:.0%} of budget",
            summary=(
                f"Month-to-date {usd(heading.month_to_date_usd)}; projected {usd(heading.projected_usd)} against a "
                f"{usd(budget)} budget ({ledger.PROJECTION_RULE})."
            ),
            details={
                "figures": {
                    "Month to date": usd(heading.month_to_date_usd),
                    "Projected": usd(heading.projected_usd),
                    "Budget": usd(budget),
                }
            },
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
            team="vision",
            title=f"vision: spend {ratio:.1f}x its baseline yesterday",
            summary=(
                f"vision spent {usd(spent)} yesterday against a baseline of {usd(usual)} (+{usd(extra)}; "
                f"{ledger.BASELINE_RULE})."
            ),
            details={
                "figures": {
                    "Spend": usd(spent),
                    "Baseline": usd(usual),
                    "Ratio": f"{ratio:.1f}x",
                    "Impact": f"+{usd(extra)}",
                },
                "items": [f"{name} {usd(amount)}" for name, amount in sorted(by_service.items(), key=lambda i: -i[1])],
            },
            dedup_key=f"demo#cost_anomaly#vision#{day}",
            occurred_at=at,
        ),
    ]


def chapter(env: DemoEnv) -> None:
    # Slack rate-limits the first post to #vision: the notifier waits Retry-After (1 s here; Slack says 30) and retries.
    env.slack.script(env.slack_paths["team:vision"], StandInResponse.rate_limited(retry_after=1))
    env.say(
        "Simulated: four sample alerts (their cost figures from the demo's bill) published to the alert topic "
        "(SNS), the way the cost monitor, "
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
