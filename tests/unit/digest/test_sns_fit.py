"""The digest event fits one SNS message (262,144 bytes) with room to spare, whatever the fleet size."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from costwarden.adapters.sns import MAX_MESSAGE_BYTES, TRUNCATION_NOTE_KEY, fit_to_sns
from costwarden.digest.compose import TEAM_TABLE_MAX_BYTES, compose_digest
from costwarden.models.alert import AlertEvent
from costwarden.models.digest import DigestInput
from costwarden.notifier.digest_blocks import digest_blocks

MakeFleet = Callable[..., DigestInput]


def _bytes(event: AlertEvent) -> int:
    return len(event.to_json().encode("utf-8"))


def test_300_teams_fit_comfortably_and_keep_every_team(make_fleet: MakeFleet) -> None:
    event = compose_digest(make_fleet(300, anomalies=300, expiring=300, reaper=600), top_n=40)
    assert _bytes(event) < MAX_MESSAGE_BYTES // 4
    assert len(event.details["teams"]) == 300
    assert "teams_omitted" not in event.details
    assert fit_to_sns(event) is event  # publish() has nothing to cut


@pytest.mark.parametrize(("teams", "name_length"), [(300, 256), (3_000, 20), (10_000, 256)])
def test_large_fleets_fit_without_publish_truncating(make_fleet: MakeFleet, teams: int, name_length: int) -> None:
    event = compose_digest(make_fleet(teams, name_length=name_length, anomalies=500, expiring=500, reaper=2_000), 40)
    assert _bytes(event) < MAX_MESSAGE_BYTES * 3 // 4
    fitted = fit_to_sns(event)
    assert fitted is event
    assert TRUNCATION_NOTE_KEY not in fitted.details
    kept = len(event.details["teams"])
    assert kept + event.details.get("teams_omitted", 0) == teams == event.details["teams_total"]
    # The largest spenders are the ones kept.
    mtd = [row[1] for row in event.details["teams"]]
    assert mtd == sorted(mtd, reverse=True)
    table_bytes = len(
        AlertEvent.model_validate({**event.model_dump(), "details": {"t": event.details["teams"]}}).to_json()
    )
    assert table_bytes < TEAM_TABLE_MAX_BYTES + 1_000


def test_a_cut_digest_still_renders_its_counts(make_fleet: MakeFleet) -> None:
    event = compose_digest(make_fleet(10_000, name_length=256), 15)
    assert event.details["teams_omitted"] > 0
    text = "\n".join(b.get("text", {}).get("text", "") for b in digest_blocks(AlertEvent.from_json(event.to_json())))
    assert "Top 15 of 10,000 teams" in text
    assert "…and 9,985 more teams (the smallest spenders)" in text


def test_worst_case_text_everywhere_still_fits() -> None:
    """256-character non-ASCII team names, 1,000-character ARNs, long reasons and notes, thousands of each."""
    from datetime import UTC, date, datetime, timedelta

    from costwarden.models.digest import (
        ExpiringResource,
        OpenAnomaly,
        ReaperActivity,
        ReaperDecision,
        TeamRow,
    )

    count = 2_000

    def name(n: int) -> str:
        return (f"t{n:05d}-" + "é" * 256)[:256]

    arn = "arn:aws:ec2:us-east-1:123456789012:instance/" + "x" * 1_000
    inp = DigestInput(
        date=date(2026, 11, 26),
        teams=tuple(
            TeamRow(
                team=name(n),
                month_to_date_usd=123_456.78 + n,
                budget_usd=999_999.99,
                budget_status="ON_TRACK",
                projected_month_end_usd=234_567.89,
                forecast_low_usd=123_456.78,
                forecast_high_usd=345_678.91,
                yesterday_usd=12_345.67 + n,
                baseline_usd=1_234.56,
                change_ratio=10.123,
            )
            for n in range(count)
        ),
        anomalies=tuple(
            OpenAnomaly(
                team=name(n),
                date=date(2026, 11, 25),
                severity="critical",
                ratio=9.99,
                impact_usd=1e5,
                top_service="S" * 300,
            )
            for n in range(count)
        ),
        reaper=ReaperActivity(
            dry_run=False,
            decisions=tuple(
                ReaperDecision(
                    resource=f"{arn}{n}", team=name(n), action="terminate", status="failed", reason="r" * 2_000
                )
                for n in range(count)
            ),
        ),
        expiring=tuple(
            ExpiringResource(resource=f"{arn}{n}", team=name(n), expires_at=datetime(2026, 11, 27, tzinfo=UTC))
            for n in range(count)
        ),
        notes=tuple("n" * 5_000 for _ in range(20)),
        estimated_dates=tuple(date(2026, 11, 1) + timedelta(days=i) for i in range(25)),
    )
    event = compose_digest(inp, 40)
    assert _bytes(event) < 200_000
    assert fit_to_sns(event) is event
    assert event.details["anomalies_total"] == event.details["expiring_total"] == count
    assert event.details["reaper"]["counts"]["failed"] == count
    assert len(digest_blocks(AlertEvent.from_json(event.to_json()))) <= 50
