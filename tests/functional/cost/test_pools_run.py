"""Pools on moto (issue 15): Cost Explorer grouped by team and environment; the experiment pool alerts at 80 % and
100 % of *actual* spend once each per month, naming its biggest jobs; production is judged on its projection;
spend without an environment stays visible; the digest shows both pools."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from costwarden.adapters import sns
from costwarden.cost.monitor import run
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.digest_blocks import blocks_as_text, digest_blocks
from costwarden.settings import Settings

from .conftest import World

START = date(2026, 2, 1)


def _settings(**anomaly: Any) -> Settings:
    return Settings.model_validate(
        {
            "anomaly": anomaly,
            "teams": {
                "nlp": {"pools": {"production": 10_000, "experiment": 5_000}},
                "vision": {"monthly_usd": 9_000, "pools": {"production": 3_100}},
            },
        }
    )


def _spend(world: World, until: date) -> None:
    """nlp: production 100/day (on track), an experiment sweep of 400/day from March 1st (two jobs), 30/day without
    an environment tag; vision: production 105/day (projected over its 3,100 pool). Flat February history."""
    days = (until - START).days + 1
    world.fake.add_series("nlp", START, [100.0] * days, environment="production")
    world.fake.add_series("nlp", START, [30.0] * days, environment=None)
    world.fake.add_series("vision", START, [105.0] * days, environment="production")
    march = (until - date(2026, 3, 1)).days + 1
    world.fake.add_series("nlp", date(2026, 3, 1), [300.0] * march, environment="experiment", experiment_id="sweep-7")
    world.fake.add_series("nlp", date(2026, 3, 1), [100.0] * march, environment="development", experiment_id="bert-ft")


def _run(world: World, today: date, settings: Settings) -> tuple[dict[str, Any], list[AlertEvent]]:
    result = run(
        settings,
        ce=world.explorer(),
        store=world.store,
        publish=lambda event: sns.publish(event, world.topic_arn),
        today=today,
    )
    return result.summary, world.published(digests=True)


@pytest.mark.parametrize("second_key", ["lifecycle_phase", "environment"])
def test_experiment_alerts_fire_once_each_per_month_and_production_is_judged_apart(
    world: World, second_key: str
) -> None:
    settings = _settings(second_group_key=second_key)
    _spend(world, date(2026, 4, 30))
    pool_alerts: dict[str, list[AlertEvent]] = {}
    digests: dict[str, AlertEvent] = {}
    summaries: dict[str, dict[str, Any]] = {}
    for n in range(9, 16):  # runs of March 9th..15th judge through the 8th..14th
        today = date(2026, 3, n)
        summary, events = _run(world, today, settings)
        summaries[today.isoformat()] = summary
        pool_alerts[today.isoformat()] = [e for e in events if e.kind is AlertKind.BUDGET and "pool" in e.details]
        digests[today.isoformat()] = next(e for e in events if e.kind is AlertKind.DIGEST)

    fired = {day: [e.title for e in events if e.team == "nlp"] for day, events in pool_alerts.items()}
    # 400/day from the 1st: 3,600 by the 9th (72 %), 4,000 by the 10th (80 %), 5,200 by the 13th (104 %).
    assert fired == {
        "2026-03-09": [],
        "2026-03-10": [],
        "2026-03-11": ["nlp: experiment pool 80 % used for 2026-03"],
        "2026-03-12": [],
        "2026-03-13": [],
        "2026-03-14": ["nlp: experiment pool 100 % used for 2026-03"],
        "2026-03-15": [],
    }
    eighty = pool_alerts["2026-03-11"][0]
    assert eighty.severity is Severity.WARNING
    assert eighty.details["items"] == ["experiment_id=sweep-7: $3,000", "experiment_id=bert-ft: $1,000"]
    assert eighty.details["figures"]["No pool"] == "$300"  # 30/day without an environment, shown apart
    assert pool_alerts["2026-03-14"][0].severity is Severity.CRITICAL

    # nlp's production is on track (100/day of a 10,000 pool): never alerted. vision's heads for 105 x 31 = 3,255
    # of 3,100 (105 %: AT_RISK), alerted once, on the first run.
    vision = [e.title for events in pool_alerts.values() for e in events if e.team == "vision"]
    assert vision == ["vision: production pool AT RISK for 2026-03"]
    nlp = {p["team"]: p for p in summaries["2026-03-15"]["pools"]}["nlp"]
    assert nlp["production"]["status"] == "ON_TRACK" and nlp["production"]["month_to_date_usd"] == 1_400.0
    assert nlp["experiment"]["status"] == "OVER_BUDGET" and nlp["experiment"]["month_to_date_usd"] == 5_600.0
    assert nlp["unassigned"] == {"unowned": 420.0}  # never in a pool, still visible

    digest = digests["2026-03-15"]
    assert [p["team"] for p in digest.details["pools"]] == ["nlp", "vision"]
    text = blocks_as_text(digest_blocks(digest))
    assert "Production and experiment pools" in text
    nlp_line = next(line for line in text.splitlines() if " nlp " in f" {line} " and "/" in line)
    assert nlp_line.split() == ["🟢", "nlp", "$1,400/$10.0k", "🔴", "$5,600/$5,000", "112%", "$420"]

    # A new month starts afresh: April's sweep alerts again.
    world.fake.add_series("nlp", date(2026, 4, 1), [500.0] * 10, environment="experiment", experiment_id="sweep-8")
    _, april_events = _run(world, date(2026, 4, 10), settings)  # 9 x (400 + 500) = 8,100: 162 %
    april = [e for e in april_events if e.kind is AlertKind.BUDGET and e.details.get("pool") == "experiment"]
    assert [e.title for e in april] == ["nlp: experiment pool 100 % used for 2026-04"]  # both new: one, the highest


def test_no_pools_configured_costs_no_extra_request(world: World) -> None:
    _spend(world, date(2026, 3, 12))
    before = len(world.fake.requests)
    summary, _ = _run(world, date(2026, 3, 12), Settings())
    assert summary["pools"] == []
    assert all(r["GroupBy"][-1]["Key"] != "environment" for r in world.fake.requests[before:])
