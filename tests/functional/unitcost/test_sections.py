"""The unit-cost run remembers the month and yesterday's moves; the report and the digest show them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import boto3
import pandas as pd
import pytest
from costwarden.adapters.state import DynamoStateStore
from costwarden.advisor.report import build_report, render_html
from costwarden.core import episodes
from costwarden.core.keys import UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK
from costwarden.cost.digest_input import open_anomalies
from costwarden.digest.compose import compose_digest
from costwarden.digest.sources import load_unit_cost_moves
from costwarden.models.alert import AlertEvent
from costwarden.models.digest import DigestInput
from costwarden.notifier.digest_blocks import digest_blocks
from costwarden.services import unitcost as service
from costwarden.settings import Settings
from moto import mock_aws

from tests.support.aws import create_state_table
from tests.support.unitcost import days, hosting_days, invocations, normalised

FIRST = date(2026, 10, 4)
SWITCH = date(2026, 11, 3)
NOW = datetime(2026, 11, 4, 7, tzinfo=UTC)  # judging yesterday, the 3rd


@pytest.fixture
def store() -> Iterator[DynamoStateStore]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        create_state_table(dynamodb)
        yield DynamoStateStore("costwarden-state", dynamodb)


def _run(store: DynamoStateStore) -> tuple[service.UnitCostRun, list[AlertEvent]]:
    window = days(FIRST, 31)  # 2026-10-04 .. 2026-11-03
    types = {d: "ml.g5.4xlarge" if d >= SWITCH else "ml.g5.xlarge" for d in window}
    lines = normalised(
        hosting_days("fraud-v3", "fraud", "fraud-v3", types)
        + hosting_days("ocr-v1", "docs", "ocr-v1", dict.fromkeys(window, "ml.g5.xlarge"))
    )
    usage = invocations("fraud-v3", dict.fromkeys(window, 50_000)).pipe(
        lambda f: pd.concat([f, invocations("ocr-v1", dict.fromkeys(window, 0))], ignore_index=True)
    )
    sent: list[AlertEvent] = []
    return service.run_unit_costs(Settings(), lines, usage, store=store, publish=sent.append, now=NOW), sent


def test_the_run_alerts_remembers_and_the_digest_shows_what_moved(store: DynamoStateStore) -> None:
    run, sent = _run(store)
    assert run.errors == [] and [e.kind.value for e in sent] == ["unit_cost"]
    assert [(f.id, f.team) for f in run.idle] == [("ocr-v1", "docs")]
    (move,) = load_unit_cost_moves(store, now=NOW)
    assert (move.model, move.team, move.per, move.date) == ("fraud-v3", "fraud", "1k predictions", SWITCH)
    assert move.change == pytest.approx(2.83 / 1.41 - 1, abs=1e-6)
    assert load_unit_cost_moves(store, now=datetime(2026, 11, 9, tzinfo=UTC)) == ()
    digest = compose_digest(DigestInput(date=SWITCH, unit_costs=(move,)), 5, team="fraud")
    assert digest.details["unit_costs_total"] == 1
    text = "\n".join(b["text"]["text"] for b in digest_blocks(digest) if "text" in b and b["type"] == "section")
    assert (
        "*Unit costs that moved yesterday*\n• fraud-v3 (fraud): $1.36 per 1k predictions, +101% on its usual $0.68"
        in text
    )
    fleet = compose_digest(DigestInput(date=SWITCH, unit_costs=(move,)), 5)
    assert fleet.details["unit_costs"][0]["model"] == "fraud-v3"
    assert "unit_costs" not in compose_digest(DigestInput(date=SWITCH), 5).details


def test_a_malformed_digest_record_leaves_the_section_out(store: DynamoStateStore) -> None:
    store.put(UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK, {"as_of": NOW.isoformat(), "moves": [{"team": ""}]})
    assert load_unit_cost_moves(store, now=NOW) == ()
    store.put(UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK, {"as_of": "yesterday", "moves": []})
    assert load_unit_cost_moves(store, now=NOW) == ()


def test_the_monthly_report_gains_the_unit_cost_section(store: DynamoStateStore) -> None:
    _run(store)
    block = service.report_section(store, "2026-11")
    assert block.startswith('<section id="unit-costs"><h2>Unit costs 2026-11</h2>')
    assert "<td>fraud-v3</td><td>fraud</td><td>1k predictions</td>" in block
    assert "2026-11-03: 2.0x (ml.g5.xlarge -&gt; ml.g5.4xlarge)" in block
    assert "<td>ocr-v1</td><td>docs</td><td>1k predictions</td><td>$102</td><td>-</td>" in block
    assert service.report_section(store, "2026-10") == ""  # the run remembers its own month only
    report = build_report(
        [], month="2026-11", today=NOW.date(), dimensions=(), budgets={}, at_risk_ratio=0.9, over_budget_ratio=1.1,
        savings={}, generated_at=NOW, heading=(3, 30, 10.0),
    )  # fmt: skip
    report.appendix.append(block)
    page = render_html(report)
    assert page.index(block) < page.index("</body></html>")


def test_a_unit_cost_episode_is_not_listed_among_the_spend_anomalies(store: DynamoStateStore) -> None:
    _run(store)
    state = episodes.load_state(store.query(episodes.DEDUP_PK))
    assert list(state) == ["fraud|unit:fraud-v3/1k_inferences"]
    spend = {**state, "fraud|": {**state["fraud|unit:fraud-v3/1k_inferences"], "cost_usd": 900.0}}
    assert [a.team for a in open_anomalies(spend, last_day=SWITCH)] == ["fraud"]
