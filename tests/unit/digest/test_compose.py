"""Composing the digest event: scope, severity, movers, top N, caps and per-team digests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from costwarden.digest.compose import (
    ANOMALIES_MAX,
    MOVERS_MAX,
    TEAM_COLUMNS,
    UNTAGGED_TEAM,
    compose_digest,
    compose_digests,
)
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.digest import DigestInput, OpenAnomaly, ReaperActivity, ReaperDecision, TeamRow
from costwarden.settings import NotifierSettings
from pydantic import ValidationError

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

MakeFleet = Callable[..., DigestInput]


def _row(team: str, mtd: float, yesterday: float, baseline: float, status: str = "NO_BUDGET") -> TeamRow:
    budget = {"NO_BUDGET": None, "ON_TRACK": mtd * 3, "AT_RISK": mtd * 1.1, "OVER_BUDGET": mtd}[status]
    return TeamRow(
        team=team,
        month_to_date_usd=mtd,
        budget_usd=budget,
        budget_status=status,  # type: ignore[arg-type]
        projected_month_end_usd=mtd * 1.2,
        forecast_low_usd=mtd * 1.1,
        forecast_high_usd=mtd * 1.3,
        yesterday_usd=yesterday,
        baseline_usd=baseline,
        change_ratio=yesterday / baseline if baseline else None,
    )


def test_fleet_digest_is_a_digest_event_for_all_teams(make_fleet: MakeFleet) -> None:
    event = compose_digest(make_fleet(8), top_n=5)
    assert event.kind is AlertKind.DIGEST
    assert event.team == "all"
    assert event.dedup_key == "digest#2026-11-26"
    assert event.title == "Daily cost digest — 2026-11-26"
    assert event.occurred_at == NOW
    assert event.details["digest"] == {"schema": 1, "date": "2026-11-26", "scope": "all", "top_n": 5}
    # The event survives the SNS round trip unchanged: details are JSON, not Python objects.
    assert AlertEvent.from_json(event.to_json()) == event


def test_teams_are_ranked_by_month_to_date_with_all_columns() -> None:
    inp = DigestInput(
        date=DAY,
        generated_at=NOW,
        teams=(_row("small", 10, 1, 1), _row("big", 9_000, 300, 300), _row("mid", 500, 20, 20)),
    )
    details = compose_digest(inp, top_n=2).details
    assert details["team_columns"] == list(TEAM_COLUMNS)
    assert [row[0] for row in details["teams"]] == ["big", "mid", "small"]
    assert details["teams_total"] == 3
    assert "teams_omitted" not in details
    big = dict(zip(details["team_columns"], details["teams"][0], strict=True))
    assert big["mtd_usd"] == 9_000
    assert big["projected_usd"] == pytest.approx(10_800)
    assert big["status"] == "NO_BUDGET"
    assert big["budget_usd"] is None
    assert details["totals"]["month_to_date_usd"] == 9_510


def test_movers_are_the_largest_dollar_changes_in_both_directions() -> None:
    inp = DigestInput(
        date=DAY,
        generated_at=NOW,
        teams=(
            _row("steady", 50_000, 1_000, 1_000),
            _row("spiking", 100, 900, 100),  # +800: small team, big move
            _row("cooling", 5_000, 100, 700),  # -600
            _row("drifting", 2_000, 130, 100),  # +30
            _row("new", 40, 40, 0),  # +40, no baseline
        ),
    )
    movers = compose_digest(inp, top_n=3).details["movers"]
    assert [m["team"] for m in movers] == ["spiking", "cooling", "new", "drifting"]
    assert movers[0] == {"team": "spiking", "yesterday_usd": 900, "baseline_usd": 100, "change_usd": 800, "ratio": 9.0}
    assert movers[1]["change_usd"] == -600
    assert movers[2]["ratio"] is None
    assert "steady" not in {m["team"] for m in movers}


def test_movers_are_capped(make_fleet: MakeFleet) -> None:
    assert len(compose_digest(make_fleet(300), top_n=15).details["movers"]) == MOVERS_MAX


@pytest.mark.parametrize(
    ("status", "anomaly", "reaper_status", "expected"),
    [
        ("ON_TRACK", "warning", "done", Severity.INFO),
        ("AT_RISK", None, None, Severity.INFO),
        ("OVER_BUDGET", None, None, Severity.WARNING),
        ("ON_TRACK", "critical", None, Severity.WARNING),
        ("ON_TRACK", None, "failed", Severity.WARNING),
    ],
)
def test_severity_is_info_unless_something_needs_a_person(
    status: str, anomaly: str | None, reaper_status: str | None, expected: Severity
) -> None:
    inp = DigestInput(
        date=DAY,
        generated_at=NOW,
        teams=(_row("vision", 1_000, 100, 100, status),),
        anomalies=()
        if anomaly is None
        else (OpenAnomaly(team="vision", date=DAY, severity=anomaly, ratio=2.5, impact_usd=300),),  # type: ignore[arg-type]
        reaper=None
        if reaper_status is None
        else ReaperActivity(
            dry_run=False,
            decisions=(ReaperDecision(resource="i-1", team="vision", action="terminate", status=reaper_status),),  # type: ignore[arg-type]
        ),
    )
    assert compose_digest(inp, top_n=5).severity is expected


def test_budget_counts_and_figures(make_fleet: MakeFleet) -> None:
    details = compose_digest(make_fleet(8, anomalies=3, expiring=2, reaper=4), top_n=5).details
    assert details["budget_counts"] == {"OVER_BUDGET": 2, "AT_RISK": 2, "ON_TRACK": 2, "NO_BUDGET": 2}
    figures = details["figures"]
    assert figures["Budgets"] == "2 over · 2 at risk · 2 on track · 2 no budget"
    assert figures["Open anomalies"] == "3 (1 critical)"
    assert figures["Untagged (7 d)"] == "4.2% (▲0.8 pt)"
    assert figures["Reaper (24 h)"] == "1 failed · 1 done · 1 skipped · 1 planned"
    assert figures["Expiring (72 h)"] == "2"
    assert all(isinstance(value, str) for value in figures.values())


def test_anomalies_critical_first_then_by_impact_and_capped(make_fleet: MakeFleet) -> None:
    details = compose_digest(make_fleet(20, anomalies=120), top_n=5).details
    anomalies = details["anomalies"]
    assert details["anomalies_total"] == 120
    assert len(anomalies) == ANOMALIES_MAX
    severities = [a["severity"] for a in anomalies]
    assert severities == sorted(severities, key=lambda s: s != "critical")
    critical_impacts = [a["impact_usd"] for a in anomalies if a["severity"] == "critical"]
    assert critical_impacts == sorted(critical_impacts, reverse=True)


def test_reaper_counts_the_latest_decision_per_resource() -> None:
    """Hourly dry runs plan the same resource again and again; it counts once, as its latest state."""
    decisions = [
        ReaperDecision(resource="i-1", team="a", action="terminate", status="planned", at=NOW - timedelta(hours=5)),
        ReaperDecision(resource="i-1", team="a", action="terminate", status="done", at=NOW - timedelta(hours=1)),
        ReaperDecision(resource="i-2", team="b", action="stop", status="failed", reason="AccessDenied", at=NOW),
    ]
    inp = DigestInput(
        date=DAY,
        generated_at=NOW,
        teams=(_row("a", 10, 1, 1), _row("b", 10, 1, 1)),
        reaper=ReaperActivity(dry_run=False, decisions=tuple(decisions)),
    )
    reaper = compose_digest(inp, top_n=5).details["reaper"]
    assert reaper["counts"] == {"failed": 1, "done": 1, "skipped": 0, "planned": 0}
    assert [line["status"] for line in reaper["lines"]] == ["failed", "done"]
    assert reaper["lines"][0]["reason"] == "AccessDenied"


def test_expiring_soonest_first_with_time_left(make_fleet: MakeFleet) -> None:
    details = compose_digest(make_fleet(4, expiring=5), top_n=5).details
    lefts = [e["seconds_left"] for e in details["expiring"]]
    assert lefts == sorted(lefts)
    assert lefts[0] == 3600
    assert details["expiring"][0]["expires_at"] == "2026-11-26T10:00:00Z"


def test_per_team_digest_only_shows_the_team(make_fleet: MakeFleet) -> None:
    inp = make_fleet(8, anomalies=16, expiring=16, reaper=16)
    event = compose_digest(inp, top_n=5, team="team-0002")
    assert event.team == "team-0002"
    assert event.dedup_key == "digest#2026-11-26#team-0002"
    assert "team-0002" in event.title
    details = event.details
    assert [row[0] for row in details["teams"]] == ["team-0002"]
    assert details["anomalies"] and {a["team"] for a in details["anomalies"]} == {"team-0002"}
    assert details["expiring"] and {e["team"] for e in details["expiring"]} == {"team-0002"}
    assert details["reaper"]["lines"] and {line["team"] for line in details["reaper"]["lines"]} == {"team-0002"}
    assert details["untagged"] is None  # untagged spend belongs to no team


def test_unknown_team_is_an_error(make_fleet: MakeFleet) -> None:
    with pytest.raises(ValueError, match="nobody"):
        compose_digest(make_fleet(3), top_n=5, team="nobody")


def test_per_team_digests_follow_settings(make_fleet: MakeFleet) -> None:
    inp = make_fleet(4)
    inp = inp.model_copy(update={"teams": (*inp.teams, _row(UNTAGGED_TEAM, 99, 1, 1))})
    assert [e.team for e in compose_digests(inp, NotifierSettings())] == ["all"]
    events = compose_digests(inp, NotifierSettings(per_team_digest=True, digest_top_n=3))
    assert [e.team for e in events] == ["all", "team-0000", "team-0001", "team-0002", "team-0003"]
    assert all(e.details["digest"]["top_n"] == 3 for e in events)


def test_empty_fleet_still_composes() -> None:
    event = compose_digest(DigestInput(date=DAY, generated_at=NOW), top_n=5)
    assert event.severity is Severity.INFO
    assert event.details["teams"] == []
    assert event.details["figures"]["Budgets"] == "no teams"


def test_input_validation_names_the_problem() -> None:
    with pytest.raises(ValidationError, match="budget_status"):
        TeamRow(
            team="a",
            month_to_date_usd=1,
            budget_usd=None,
            budget_status="AT_RISK",
            projected_month_end_usd=1,
            forecast_low_usd=1,
            forecast_high_usd=1,
            yesterday_usd=1,
            baseline_usd=1,
        )
    with pytest.raises(ValidationError, match="more than once"):
        DigestInput(date=DAY, teams=(_row("a", 1, 1, 1), _row("a", 2, 1, 1)))


def test_summary_is_one_short_line(make_fleet: MakeFleet) -> None:
    event = compose_digest(make_fleet(300, name_length=256, anomalies=300, expiring=300, reaper=600), top_n=40)
    assert "\n" not in event.summary
    assert len(event.summary) < 1_000
    assert event.summary.startswith("$")


def test_critical_count_covers_every_open_anomaly_not_only_the_listed_ones(make_fleet: MakeFleet) -> None:
    details = compose_digest(make_fleet(20, anomalies=500), top_n=5).details
    assert details["anomalies_critical"] == 100  # every fifth is critical
    assert details["figures"]["Open anomalies"] == "500 (100 critical)"
