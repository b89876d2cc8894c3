"""The burn guard's acceptance (issue 25): eight p4d.24xlarge against a baseline of 800 USD/day are one critical alert
in the same batch, priced from the Price List fixture, naming the caller and the tags; the next morning's detector
folds it into the same episode; stops lower the rate; failed calls and replayed events count nothing (or once)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.burn.run import BurnPorts, BurnResult, run_burn
from costwarden.core import episodes, planned
from costwarden.core.keys import CostKey
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.services.burn import AwsPrices
from costwarden.settings import Settings

from tests.support.burn import P4D_USD_PER_HOUR, FakePricing, events

NOW = datetime(2026, 12, 7, 9, 3, tzinfo=UTC)
DAY = date(2026, 12, 7)
BASELINES = {"nlp": 800.0, "vision": 1500.0}


class Guard:
    """One account's guard: a state table, the Price List, a publisher that keeps what it sent."""

    def __init__(self, role_tags: dict[str, dict[str, str]] | None = None) -> None:
        self.store = MemoryStateStore()
        self.pricing = FakePricing()
        self.sent: list[AlertEvent] = []
        self.ports = BurnPorts(
            store=self.store,
            prices=AwsPrices(lambda _service, _region: self.pricing, self.store),
            baseline=lambda team, _day: BASELINES.get(team),
            role_tags=lambda arn: (role_tags or {}).get(arn, {}),
            publish=self.sent.append,
        )

    def run(self, batch: list[dict[str, Any]], settings: Settings | None = None) -> BurnResult:
        return run_burn(batch, settings or Settings(), self.ports, now=NOW)


def test_eight_p4d_are_one_critical_alert_in_the_same_batch() -> None:
    guard = Guard()
    result = guard.run(events()[:3])  # the failed launch, the launch, its redelivery
    assert [(a.team, a.severity) for a in result.alerts] == [("nlp", Severity.CRITICAL)]
    (event,) = guard.sent
    assert event.kind is AlertKind.BURN_RATE and event.severity is Severity.CRITICAL and event.team == "nlp"
    assert event.details["usd_per_hour"] == pytest.approx(8 * P4D_USD_PER_HOUR)
    assert event.details["projected_day_usd"] == pytest.approx(8 * P4D_USD_PER_HOUR * 24, abs=0.01)
    assert event.details["projected_month_usd"] == pytest.approx(8 * P4D_USD_PER_HOUR * 730, abs=0.01)
    assert event.details["baseline_day_usd"] == 800.0
    caller = "arn:aws:sts::123456789012:assumed-role/ml-research-launcher/alice"
    assert event.details["figures"]["Launched by"] == caller
    assert event.details["figures"]["USD per hour"] == "$262.18"
    assert event.title == "nlp: $262/hour after 8 x p4d.24xlarge in us-east-1 by alice (ml-research-launcher)"
    assert event.details["items"][0] == (
        "tags: environment=development, expires_at=2026-12-09, project=llm-pretrain, team=nlp"
    )
    assert event.details["launches"][0]["arns"][0] == "arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000000"
    assert CostKey.parse(event.dedup_key) == CostKey("nlp|", "2026-12-07", "critical")
    assert [launch.count for launch in result.launches] == [8]  # the failed one counts nothing
    assert result.duplicates == 1 and result.launches[0].usd_per_hour == pytest.approx(8 * P4D_USD_PER_HOUR)


def test_the_next_mornings_detector_folds_it_into_the_same_episode() -> None:
    guard = Guard()
    guard.run(events()[1:2])
    state = episodes.load_state(guard.store.query(episodes.DEDUP_PK))
    assert state["nlp|"]["start"] == "2026-12-07" and state["nlp|"]["severity"] == "critical"
    # 08:00 the next day: the daily detector finds the 7th critical (the bill caught up) -> no second alert.
    finding = {"date": "2026-12-07", "team": "nlp", "cost_usd": 2_900.0, "baseline_usd": 800.0, "ratio": 3.6}
    findings = pd.DataFrame([{**finding, "severity": "critical", "impact_usd": 2_100.0, "estimated": True}])
    new_state, actions = episodes.advance(state, findings, {"2026-12-07": True}, ["team"])
    assert actions == []
    assert new_state["nlp|"]["start"] == "2026-12-07"
    # Without the burn guard's episode the same finding is an alert: the fold is what keeps it one.
    assert [a.kind for a in episodes.advance({}, findings, {"2026-12-07": True}, ["team"])[1]] == ["alert"]


def test_stops_and_terminations_lower_the_rate() -> None:
    result = Guard().run(events())
    nlp = [(r["time"][11:16], r["usd_per_hour"]) for r in result.rates if r["team"] == "nlp"]
    full = round(8 * P4D_USD_PER_HOUR, 4)
    assert nlp == [("09:00", full), ("09:05", full), ("10:00", round(full / 2, 4)), ("10:30", 0.0)]


def test_a_replayed_event_counts_once_across_invocations() -> None:
    guard = Guard()
    first = guard.run(events()[1:2])
    again = guard.run(events()[1:2])
    assert len(first.launches) == 1 and again.launches == [] and again.duplicates == 1
    assert again.alerts == [] and len(guard.sent) == 1


def test_a_stop_delivered_before_its_launch_wins() -> None:
    guard = Guard()
    day = events()
    guard.run([day[5], day[6]])  # stopped and terminated at 10:00 / 10:30, before the 09:00 launch arrives
    result = guard.run([day[1]])
    assert result.rates[-1]["usd_per_hour"] == 0.0 and result.alerts == []


def test_unknown_types_are_unknown_and_said_so_never_zero() -> None:
    result = Guard().run(events()[4:5])
    (launch,) = result.launches
    assert launch.usd_per_hour is None and "no on-demand price per Hrs for p9z.96xlarge" in launch.note
    assert result.rates[-1]["unpriced_instances"] == 1


def test_price_list_requests_grow_with_types_not_launches() -> None:
    guard = Guard()
    batch = []
    for n in range(60):
        event = events()[1]
        event["id"] = f"launch-{n}"
        event["detail"]["responseElements"]["instancesSet"]["items"] = [
            {**event["detail"]["responseElements"]["instancesSet"]["items"][0], "instanceId": f"i-{n:017x}"}
        ]
        if n % 2:
            event["region"] = event["detail"]["awsRegion"] = "us-west-2"
        batch.append(event)
    result = guard.run(batch)
    assert len(result.launches) == 60
    assert guard.pricing.requests == 2  # p4d.24xlarge in two regions
    assert guard.run([events()[4]]).price_keys == 1 and guard.pricing.requests == 3


def test_declared_planned_spend_covers_it() -> None:
    guard = Guard()
    plan = planned.parse_plan(["nlp", "2026-12-07", "2026-12-07", "6000", "pretraining", "run"])
    planned.store(guard.store, plan, by="alice", now=NOW)
    assert guard.run(events()[1:2]).alerts == [] and guard.sent == []


def test_the_role_tags_own_a_launch_the_request_does_not() -> None:
    event = events()[1]
    event["detail"]["requestParameters"].pop("tagSpecificationSet")
    role = "arn:aws:iam::123456789012:role/ml-research-launcher"
    guard = Guard(role_tags={role: {"team": "vision"}})
    assert guard.run([event]).launches[0].team == "vision"
    other = events()[1]
    other["id"] = "x"
    other["detail"]["requestParameters"].pop("tagSpecificationSet")
    assert Guard().run([other]).launches[0].team == "unowned"


def test_a_quiet_episode_is_recorded_not_sent() -> None:
    guard = Guard()
    item = {"severity": "warning", "start": "2026-12-06", "last": "2026-12-06", "retracted": False, "quiet": True}
    guard.store.put(episodes.DEDUP_PK, "nlp|", item)
    assert guard.run(events()[1:2]).alerts == [] and guard.sent == []
    assert guard.store.get(episodes.DEDUP_PK, "nlp|")["last"] == "2026-12-07"
