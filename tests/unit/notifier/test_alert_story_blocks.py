"""Issue 22 in Block Kit: sections, the next step, links as ``<url|label>``, zero-value fields hidden, metadata; and
the one check over every Slack post (tests/support/slack_posts.py) catching each rule it stands for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from costwarden.advisor.alerts import commitment, report
from costwarden.advisor.commitments import Commitment, CommitmentAlert
from costwarden.advisor.report import MonthlyReport, TeamReport
from costwarden.core.alerts import build
from costwarden.core.keys import ReapedKey
from costwarden.models.alert import AlertKind, Severity
from costwarden.models.idle_ports import Quote
from costwarden.notifier.blocks import render_message, zero_value
from costwarden.reaper.alerts import monthly_savings, reaped
from costwarden.resources.model import Decision, Resource, Status
from costwarden.settings import TagPolicy

from tests.support.slack_posts import problems

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _event(**kwargs: Any) -> Any:
    fields: dict[str, Any] = {"title": "t", "summary": "s", "figures": {"Cost": "$5"}, **kwargs}
    return build(AlertKind.REAPED, Severity.INFO, "ml", ReapedKey("run-1", "ml"), now=NOW, **fields)


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/x|<!channel>", "javascript:alert(1)", "https://a.example/ b", "https://a.example/>x"],
)
def test_a_hostile_link_shows_its_label_only(url: str) -> None:
    message = render_message(_event(links=[("Open <!here> | now", url)]))
    text = message["blocks"][-2]["text"]["text"]
    assert text == "Open &lt;!here&gt; / now"  # no link markup, nothing Slack would act on


def test_sections_next_step_and_links_render_in_order_within_limits() -> None:
    event = _event(
        sections=[("Root causes by region", [f"+${n} in region-{n}" for n in range(14)]), ("Empty", [])],
        next_step="Stop i-1 <now>",
        links=[("Open in Cost Explorer", "https://console.example/home#/ce?a=1&b=%7B%7D"), ("No URL", "")],
    )
    kinds = [b["type"] for b in render_message(event)["blocks"]]
    assert kinds == ["header", "section", "section", "section", "section", "section", "context"]
    _, _, _, causes, step, link, _ = render_message(event)["blocks"]
    lines = causes["text"]["text"].split("\n")
    assert lines[0] == "*Root causes by region*" and len(lines) == 12 and lines[-1] == "_… and 4 more_"
    assert step["text"]["text"] == "*What to do:* Stop i-1 &lt;now&gt;"
    assert link["text"]["text"] == "<https://console.example/home#/ce?a=1&amp;b=%7B%7D|Open in Cost Explorer>"
    assert [s["title"] for s in event.details["sections"]] == ["Root causes by region"]


def test_zero_value_fields_are_not_shown_but_kept_for_machines() -> None:
    figures = {"Done": 2, "Failed": 0, "Other at stake / month": "$0", "Rate": "$0/day", "Used": "0.0 %"}
    event = _event(figures=figures)
    shown = [f["text"] for b in render_message(event)["blocks"] for f in b.get("fields", [])]
    assert shown == ["*Done*\n2", "*Used*\n0.0 %"]
    assert event.details["figures"]["Failed"] == "0"
    assert [zero_value(v) for v in ("$0", "-$0", "0 USD", "$0.00", "$0.40", "0 %", "10", "-")] == [
        *(True, True, True, True),
        *(False, False, False, False),
    ]


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"text": "x", "blocks": [{"type": "divider"}] * 51}, "51 blocks"),
        ({"text": "x", "blocks": [{"type": "header", "text": {"text": "h" * 151}}]}, "header of 151"),
        ({"text": "x" * 4_001}, "text of 4001"),
        ({"text": "see `cost#vision|#2026-11-19#critical`"}, "internal key 'cost#vision|#2026-11-19#critical'"),
        ({"text": "x", "blocks": [{"type": "context", "elements": [{"text": "digest#2026-11-26"}]}]}, "internal key"),
        ({"text": "robust z-score 26.4"}, "z-score in visible text"),
        ({"text": "x", "blocks": [{"type": "section", "fields": [{"text": "*Failed*\n0"}]}]}, "zero-value field"),
        ({"text": "x", "blocks": [{"type": "actions", "elements": [{"text": {"text": "b" * 76}}]}]}, "label over 75"),
    ],
)
def test_the_slack_check_catches_each_rule(message: dict[str, Any], problem: str) -> None:
    assert any(problem in found for found in problems(message)), problems(message)


def test_the_slack_check_passes_channels_links_and_metadata() -> None:
    message = {
        "text": "posted to #ml-vision",
        "blocks": [{"type": "section", "text": {"text": "<https://x.example/home#/cost-explorer?a=1|Open>"}}],
        "metadata": {"event_type": "costwarden_alert", "event_payload": {"dedup_key": "cost#vision|#d#critical"}},
    }
    assert problems(message) == []


def test_every_post_of_a_test_is_checked_without_opting_in(request: pytest.FixtureRequest) -> None:
    assert "every_slack_post_checked" in request.fixturenames


def test_commitment_title_names_the_reservation_not_its_id() -> None:
    reserved = Commitment("reserved_instance", "8f3c2a1e-uuid-4b2d", "4x g4dn.12xlarge us-east-1", 41.6, 0.0, None)
    low = CommitmentAlert(reserved, "low_utilisation", "low", "commitment#util#8f3c2a1e-uuid-4b2d#2026-11", "warning")
    event = commitment(low, "ops", NOW)
    assert event.title == "Reserved 4x g4dn.12xlarge us-east-1 used 42 %"
    assert event.details["figures"]["Id"] == "8f3c2a1e-uuid-4b2d" and "Unused" not in event.details["figures"]
    plan = Commitment("savings_plan", "sp-1", "Compute plan (g5), 12.5 USD/h", 98.0, 3.0, NOW.date(), 12.5)
    ending = commitment(CommitmentAlert(plan, "expiry", "ends", "commitment#expiry#sp-1#30", "info"), "ops", NOW)
    assert ending.title == f"Compute Savings Plan (g5), $12.50/h ends {NOW.date()}"


def test_report_link_is_a_labelled_link_never_the_raw_url() -> None:
    url = "https://bucket.s3.amazonaws.com/reports/2026-11.html?X-Amz-Signature=" + "a" * 200
    team = TeamReport(team="vision", this_usd=5245.0, last_usd=4100.0)
    rep = MonthlyReport("2026-11", "2026-10", 30, 30, NOW, ("service",), team, [team])
    event = report(team, rep, url, NOW + timedelta(days=7), NOW)
    message = render_message(event)
    assert url not in message["text"] and url not in event.summary
    assert f"<{url}|Open the November report>" in str(message["blocks"])
    assert problems(message) == []


def test_reaped_says_what_it_saves_per_month() -> None:
    def decision(n: int, status: Status = Status.DONE) -> Decision:
        return Decision(
            f"arn:i-{n}", "ec2:instance", "us-east-1", "ml", "2026-11-30", "terminate", status, "", f"i-{n}"
        )

    def resource(n: int, size: str) -> Resource:
        details = {"instance_type": size}
        return Resource(f"arn:i-{n}", "ec2:instance", "us-east-1", f"i-{n}", {}, details=details)

    class Book:
        def on_demand_price(self, service: str, instance_type: str, region: str) -> Quote:
            return Quote(3.912, "Hrs") if instance_type == "g5.12xlarge" else Quote(None, "Hrs", "unknown type")

        def storage_price(self, volume_type: str, region: str) -> Quote:
            return Quote(None, "GB-Mo", "not used")

    decisions = [decision(1), decision(2), decision(3, Status.FAILED)]
    actions = [(resource(1, "g5.12xlarge"), decisions[0]), (resource(2, "x9.odd"), decisions[1])]
    saves = monthly_savings(actions, Book())
    assert saves == {"arn:i-1": 2855.76, "arn:i-2": None}
    event = reaped("ml", decisions, "run-1", NOW, TagPolicy(), monthly_usd=saves)
    assert "It saves about $2,856/month at on-demand list prices (1 without a list price)." in event.summary
    assert event.details["figures"] == {"Done": "2", "Saves / month": "$2,856+", "Failed": "1", "Run": "run-1"}
    unpriced = reaped("ml", decisions[:1], "run-1", NOW, TagPolicy())
    assert "What this saves per month is not known: this run read no prices." in unpriced.summary
    assert "Failed" not in unpriced.details["figures"]
