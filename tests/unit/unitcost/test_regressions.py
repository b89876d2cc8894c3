"""Efficiency regressions through the cost monitor's detector and episodes; zero denominators."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.core import episodes
from costwarden.core.keys import CostKey
from costwarden.interact.buttons import BUTTONS
from costwarden.models.alert import AlertEvent, AlertKind
from costwarden.services import unitcost as service
from costwarden.settings import Settings, UnitCostSettings
from costwarden.unitcost import regressions
from costwarden.unitcost.alerts import raise_regressions

from tests.support.unitcost import days, hosting_days, invocations, normalised

FIRST = date(2026, 10, 4)
SWITCH = date(2026, 11, 3)
SETTINGS = Settings()


def _types(switch: date | None, count: int = 33) -> dict[date, str]:
    return {d: "ml.g5.4xlarge" if switch and d >= switch else "ml.g5.xlarge" for d in days(FIRST, count)}


def _daily(per_day: dict[date, float], switch: date | None = SWITCH, model: str = "fraud-v3") -> pd.DataFrame:
    lines = normalised(hosting_days(model, "fraud", model, _types(switch)))
    return service.daily_inference(SETTINGS, lines, invocations(model, per_day))


def _find(daily: pd.DataFrame, cfg: UnitCostSettings = SETTINGS.unitcost) -> list[regressions.Regression]:
    return regressions.find(daily, cfg, service.detector(cfg))


def test_flat_traffic_and_a_doubled_instance_price_is_one_regression_naming_both() -> None:
    found = _find(_daily(dict.fromkeys(days(FIRST, 33), 50_000)))
    assert [r.date for r in found] == ["2026-11-03", "2026-11-04", "2026-11-05"]
    first = found[0]
    assert first.ratio == pytest.approx(2.83 / 1.41, abs=0.001) and first.severity == "critical"
    assert (first.types_before, first.types_now, first.changed_on) == ("ml.g5.xlarge", "ml.g5.4xlarge", "2026-11-03")
    assert first.headline == (
        "cost per 1k predictions of fraud-v3 doubled: traffic flat, "
        "the endpoint moved from ml.g5.xlarge to ml.g5.4xlarge on the 3rd"
    )


def test_falling_traffic_under_the_same_cost_is_not_an_efficiency_regression() -> None:
    halved = {d: 50_000 if d < SWITCH else 25_000 for d in days(FIRST, 33)}
    assert _find(_daily(halved, switch=None)) == []


def test_rising_traffic_does_not_hide_a_regression_and_cheap_models_are_left_alone() -> None:
    more = {d: 50_000 if d < SWITCH else 60_000 for d in days(FIRST, 33)}
    (first, *_rest) = _find(_daily(more))
    assert first.traffic == "traffic up 20%" and first.severity == "warning"
    dear_floor = UnitCostSettings(min_daily_cost_usd=100.0)
    assert _find(_daily(dict.fromkeys(days(FIRST, 33), 50_000)), dear_floor) == []


def test_a_short_history_is_not_judged() -> None:
    short = dict.fromkeys(days(SWITCH, 3), 50000)
    lines = normalised(hosting_days("fraud-v3", "fraud", "fraud-v3", dict.fromkeys(days(SWITCH, 3), "ml.g5.xlarge")))
    assert _find(service.daily_inference(SETTINGS, lines, invocations("fraud-v3", short))) == []


def test_the_regression_alert_is_published_once_per_episode_with_the_episode_buttons() -> None:
    store, sent = MemoryStateStore(), []
    daily = _daily(dict.fromkeys(days(FIRST, 33), 50_000))
    now = datetime(2026, 11, 6, 8, tzinfo=UTC)
    cfg, judge = SETTINGS.unitcost, service.detector(SETTINGS.unitcost)
    run = raise_regressions(daily, cfg, judge, store=store, publish=sent.append, now=now, judge_from="2026-11-01")
    assert len(run.events) == 1 and run.errors == [] and sent == run.events
    event: AlertEvent = sent[0]
    assert event.kind is AlertKind.UNIT_COST and event.team == "fraud" and event.severity.value == "critical"
    assert "ml.g5.xlarge to ml.g5.4xlarge on the 3rd" in event.title and "traffic flat" in event.title
    assert event.details["figures"]["Cost"] == "$1.36 per 1k predictions"
    assert event.details["figures"]["Usual"] == "$0.68 per 1k predictions"
    assert event.summary == (
        "On 2026-11-03 fraud-v3 cost $1.36 per 1k predictions against a usual $0.68 per 1k predictions (2.0x), "
        "traffic flat: the endpoint moved from ml.g5.xlarge to ml.g5.4xlarge on the 3rd."
    )
    key = CostKey.parse(event.dedup_key)
    assert (key.series, key.day) == ("fraud|unit:fraud-v3/1k_inferences", "2026-11-03")
    stored = episodes.load_state(store.query(episodes.DEDUP_PK))
    assert stored[key.series]["start"] == "2026-11-03" and stored[key.series]["last"] == "2026-11-05"
    again = raise_regressions(daily, cfg, judge, store=store, publish=sent.append, now=now)
    assert again.events == [] and len(sent) == 1
    offers = BUTTONS[AlertKind.UNIT_COST](event, "#fraud", SETTINGS)
    assert [o.button.action for o in offers] == ["ack", "snooze", "planned"]
    assert {o.button.target for o in offers} == {key.series}


def test_a_failed_publish_leaves_the_episode_unopened_so_the_next_run_alerts() -> None:
    store = MemoryStateStore()
    daily = _daily(dict.fromkeys(days(FIRST, 33), 50_000))
    now = datetime(2026, 11, 6, 8, tzinfo=UTC)

    def broken(_event: AlertEvent) -> None:
        raise ConnectionError("sns down")

    cfg, judge = SETTINGS.unitcost, service.detector(SETTINGS.unitcost)
    failed = raise_regressions(daily, cfg, judge, store=store, publish=broken, now=now)
    assert failed.events == [] and failed.errors == ["unit_cost fraud: ConnectionError: sns down"]
    assert store.query(episodes.DEDUP_PK) == []
    sent: list[AlertEvent] = []
    assert len(raise_regressions(daily, cfg, judge, store=store, publish=sent.append, now=now).events) == 1


def test_a_zero_denominator_with_continuing_cost_is_found_and_unknown_is_not() -> None:
    window = days(date(2026, 11, 1), 7)
    lines = normalised(hosting_days("ocr-v1", "docs", "ocr-v1", dict.fromkeys(window, "ml.g5.xlarge")))
    zero = service.daily_inference(SETTINGS, lines, invocations("ocr-v1", dict.fromkeys(window, 0)))
    (found,) = regressions.zero_denominators(zero, lines, 7)
    assert (found.model, found.team, found.days) == ("ocr-v1", "docs", 7)
    assert found.cost_usd == pytest.approx(7 * 33.84)
    assert found.resources == (
        ("arn:aws:sagemaker:us-east-1:123456789012:endpoint/ocr-v1", "ml.g5.xlarge", pytest.approx(7 * 33.84)),
    )
    unknown = service.daily_inference(SETTINGS, lines, invocations("ocr-v1", {}))
    assert regressions.zero_denominators(unknown, lines, 7) == []
    one_call = service.daily_inference(SETTINGS, lines, invocations("ocr-v1", {d: int(d == window[3]) for d in window}))
    assert regressions.zero_denominators(one_call, lines, 7) == []
    (finding,) = service.idle_findings(SETTINGS, lines, invocations("ocr-v1", dict.fromkeys(window, 0)))
    assert finding.kind.value == "idle" and finding.type == "sagemaker_endpoint" and finding.team == "docs"
    assert finding.monthly_usd == pytest.approx(33.84 * 365 / 12)
    assert finding.evidence.startswith("0 predictions in 7 days while the bill shows $237")


def test_words() -> None:
    assert [regressions.ordinal(f"2026-11-{d:02d}") for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 30)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "30th"
    ]  # fmt: skip
    assert [regressions.grew(r) for r in (1.6, 2.0, 3.0, 4.5)] == ["rose 60%", "doubled", "tripled", "is 4.5x"]
    assert regressions.unit_words("1k_transactions") == "1k transactions"
