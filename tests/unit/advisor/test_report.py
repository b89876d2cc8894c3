"""The monthly report model and its HTML: figures, change, budgets, escaping, and no external reference."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from costwarden.advisor.report import CostLine, build_report, parse_month, previous_month, render_html
from costwarden.services.advisor.report import month_heading

DIMS = ("model_id", "project", "lifecycle_phase")
NOW = datetime(2026, 12, 1, 7, tzinfo=UTC)


def lines() -> list[CostLine]:
    out = []
    for month, scale in (("2026-11", 1.0), ("2026-10", 0.8)):
        for dim, values in (
            ("model_id", {"fraud-v3": 6000, "": 1000}),
            ("project", {"payments": 7000}),
            ("lifecycle_phase", {"inference": 5000, "training": 2000}),
        ):
            out += [CostLine("risk", dim, v, month, usd * scale) for v, usd in values.items()]
        out += [CostLine("vision", "model_id", "detector", month, 3000 * scale)]
        out += [CostLine("vision", "project", "cameras", month, 3000 * scale)]
        out += [CostLine("vision", "lifecycle_phase", "training", month, 3000 * scale)]
    out.append(CostLine("risk", "model_id", "fraud-v3", "2026-09", 99999))  # outside the report: ignored
    return out


def report(**kwargs: object):  # type: ignore[no-untyped-def]
    args = {
        "month": "2026-11",
        "today": date(2026, 12, 1),
        "dimensions": DIMS,
        "budgets": {"risk": 7500.0, "vision": 2000.0},
        "at_risk_ratio": 0.9,
        "over_budget_ratio": 1.1,
        "savings": {"vision": (1234.5, ["bucket vision-exp: 800 USD/month"])},
        "generated_at": NOW,
    }
    args.update(kwargs)
    args["heading"] = month_heading(str(args["month"]), args["today"])  # type: ignore[arg-type]
    return build_report(lines(), **args)  # type: ignore[arg-type]


def test_complete_month_figures_change_and_budgets() -> None:
    r = report()
    assert r.complete and r.projection == 1.0 and r.notes == []
    data = r.to_dict()
    risk, vision = data["teams"]
    assert risk["team"] == "risk" and risk["this_month_usd"] == 7000 and risk["last_month_usd"] == 5600
    assert risk["change_pct"] == 25.0
    assert risk["by"]["model_id"] == [
        {"value": "fraud-v3", "this_month_usd": 6000, "last_month_usd": 4800},
        {"value": "unowned", "this_month_usd": 1000, "last_month_usd": 800},
    ]
    assert risk["budget"] == {"budget_usd": 7500.0, "basis_usd": 7000.0, "status": "AT_RISK"}  # 93 %
    assert vision["budget"]["status"] == "OVER_BUDGET" and vision["savings_usd_month"] == 1234.5
    assert data["account"]["this_month_usd"] == 10000 and data["account"]["savings_usd_month"] == 1234.5
    # A tie (5,000 each) is ordered by name.
    assert [(r["value"], r["this_month_usd"]) for r in data["account"]["by"]["lifecycle_phase"]] == [
        ("inference", 5000),
        ("training", 5000),
    ]


def test_month_under_way_uses_the_run_rate() -> None:
    r = report(today=date(2026, 11, 10))  # 9 of 30 days elapsed
    assert not r.complete and r.projection == pytest.approx(30 / 9)
    risk = r.to_dict()["teams"][0]
    assert risk["change_pct"] == round((7000 * 30 / 9 / 5600 - 1) * 100, 1)
    assert risk["budget"]["status"] == "OVER_BUDGET"
    assert "under way (9 of 30 days)" in r.notes[0]


EXTERNAL = re.compile(r"(?i)(https?:|ftp:|//[a-z0-9]|<script|<link|<iframe|<img|<object|@import|url\(|\bsrc\s*=)")


def test_html_is_self_contained_with_charts() -> None:
    page = render_html(report())
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 1 + 3 * 3
    assert EXTERNAL.search(page) is None
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#team-") for h in hrefs)
    assert 'id="team-risk"' in page and "fraud-v3" in page and "AT RISK" in page
    assert "savings on the table: <b>$1,234/month</b>" in page


def test_hostile_tag_values_are_escaped_not_referenced() -> None:
    hostile = [
        CostLine("<script>alert(1)</script>", "model_id", '"><img src=https://evil.example/x.png>', "2026-11", 10),
        CostLine("ok", "project", "javascript:alert(1)", "2026-11", 5),
    ]
    page = render_html(
        build_report(
            hostile,
            month="2026-11",
            today=date(2026, 12, 1),
            dimensions=DIMS,
            budgets={},
            at_risk_ratio=0.9,
            over_budget_ratio=1.1,
            savings={},
            generated_at=NOW,
            heading=month_heading("2026-11", date(2026, 12, 1)),
        )
    )
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&quot;&gt;&lt;img src=https://evil.example/x.png&gt;" in page
    assert all(h.startswith("#team-") for h in re.findall(r'href="([^"]*)"', page))
    assert re.search(r"(?i)\bsrc\s*=\s*\"", page) is None


def test_month_parsing() -> None:
    assert parse_month("2026-01") == "2026-01" and previous_month("2026-01") == "2025-12"
    for bad in ("2026-13", "26-01", "2026/01", "2026-1", "next", ""):
        with pytest.raises(ValueError):
            parse_month(bad)
