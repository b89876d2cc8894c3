"""The digest event fits one SNS message (262,144 bytes) with room to spare, whatever the fleet size."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from costwarden.adapters.sns import MAX_MESSAGE_BYTES, TRUNCATION_NOTE_KEY, fit_to_sns
from costwarden.digest.compose import TEAM_TABLE_MAX_BYTES, compose_digest
from costwarden.digest.model import DigestInput
from costwarden.models.alert import AlertEvent
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
