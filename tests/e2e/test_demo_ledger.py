"""The demo plays one organization's one November: one bill, one ledger, every number agreeing (issue 21).

On the demo's own output: the monthly report's November totals equal the daily cost cache's November and the
month-end digest's month to date (30 November), per team and for the account; every lifecycle and environment value
the demo shows is an allowed one; every team with a budget has it in the report; no traceback is printed; every
Slack post is printed with a body.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.demo import bill, cost
from costwarden.demo.timeline import RUN_DAY
from costwarden.models.alert import AlertEvent, AlertKind
from costwarden.settings import Settings

pytestmark = pytest.mark.e2e

DemoRun = tuple[int, Path, str]
MONTH = "2026-11"
UNTAGGED = UNOWNED_TEAM


def _alerts(out: Path) -> list[AlertEvent]:
    return [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]


def _team(name: str) -> str:
    return name or UNTAGGED


def test_report_totals_equal_the_daily_cache_and_the_month_end_digest(demo: DemoRun) -> None:
    code, out, printed = demo
    assert code == 0, printed
    report = json.loads((out / f"report-{MONTH}.json").read_text())
    cache = json.loads((out / f"ledger-{MONTH}.json").read_text())
    [digest] = [a for a in _alerts(out) if a.kind is AlertKind.DIGEST and a.details["digest"]["date"] == "2026-11-30"]
    columns = digest.details["team_columns"]
    digest_mtd = {row[0]: row[columns.index("mtd_usd")] for row in digest.details["teams"]}
    report_teams = {t["team"]: t["this_month_usd"] for t in report["teams"]}
    cache_teams = {_team(t): usd for t, usd in cache["teams_usd"].items()}
    billed = {_team(str(t)): float(usd) for t, usd in bill.month_total(MONTH).items()}

    assert report["month"] == MONTH and report["complete"] is True
    assert set(report_teams) == set(cache_teams) == set(digest_mtd) == set(billed)
    assert len(report_teams) == 6  # five teams and the untagged slice: nobody missing from the report
    for team, usd in report_teams.items():
        assert usd == pytest.approx(cache_teams[team], abs=0.01), team
        assert usd == pytest.approx(digest_mtd[team], abs=0.01), team
        assert usd == pytest.approx(billed[team], abs=0.01), team
    account = report["account"]["this_month_usd"]
    assert account == pytest.approx(cache["account_usd"], abs=0.05)
    assert account == pytest.approx(digest.details["totals"]["month_to_date_usd"], abs=0.05)
    assert f"the daily cache's November: {account:,.0f} USD" in printed


def test_the_digest_the_report_follows_is_the_month_it_closes(demo: DemoRun) -> None:
    _, out, _ = demo
    digests = [a.details["digest"]["date"] for a in _alerts(out) if a.kind is AlertKind.DIGEST]
    report_month = json.loads((out / f"report-{MONTH}.json").read_text())["month"]
    assert {d[:7] for d in digests} == {report_month}


def test_every_team_with_a_budget_has_it_in_the_report(demo: DemoRun) -> None:
    _, out, _ = demo
    budgets = cost.budgets_for(cost.line_items(), RUN_DAY)
    report = {t["team"]: t for t in json.loads((out / f"report-{MONTH}.json").read_text())["teams"]}
    assert budgets and set(budgets) <= set(report)
    for team, amount in budgets.items():
        assert report[team]["budget"] is not None, team
        assert report[team]["budget"]["budget_usd"] == amount
    html = (out / f"report-{MONTH}.html").read_text()
    assert html.count('class="badge ') >= len(budgets)
    posts = {a.team: a for a in _alerts(out) if a.kind is AlertKind.REPORT}
    assert all("Budget" in posts[team].details["figures"] for team in budgets)


def _shown_values(text: str, key: str) -> set[str]:
    """Values shown for tag ``key`` as ``key=value`` (alert items, the report) or ``"key": "value"`` (details)."""
    pattern = rf"""\b{key}(?:=|": ")['"]?([A-Za-z0-9_()-]+)"""
    return set(re.findall(pattern, text))


def test_every_lifecycle_and_environment_value_the_demo_shows_is_allowed(demo: DemoRun) -> None:
    _, out, _ = demo
    allowed = Settings().tags.allowed_values
    # The tag audit's own findings quote the bad values it asks owners to fix ('trainig', 'dev'): they are the
    # point of that chapter. Everything else the demo wrote must carry allowed values only.
    alerts = [a for a in json.loads((out / "alerts.json").read_text()) if a["kind"] != AlertKind.TAG_VIOLATION.value]
    shown = {key: _shown_values(json.dumps(alerts, ensure_ascii=False), key) for key in allowed}
    report = json.loads((out / f"report-{MONTH}.json").read_text())
    for team in (report["account"], *report["teams"]):
        for key, rows in team["by"].items():
            shown.setdefault(key, set()).update(row["value"] for row in rows)
    for key, values in allowed.items():
        assert shown[key], key  # the check reads what it means to
        assert shown[key] <= {*values, UNTAGGED}, (key, shown[key] - set(values))
    items = bill.bill()
    for key, values in allowed.items():
        assert set(items[key]) <= {*values, ""}, key  # "" is the slice nobody tagged


def test_no_traceback_is_printed(demo: DemoRun) -> None:
    _, _, printed = demo
    assert "Traceback" not in printed and "NotImplementedError" not in printed
    assert "could not be read" not in printed  # the EMR policy is answered, not skipped
    assert "GetAutoTerminationPolicy" in printed.split("Chapter 6:")[1].split("Chapter 7:")[0]


def test_the_simulator_prints_no_traceback_in_the_idle_chapter(
    run_chapter: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    code, _, printed = run_chapter("costwarden.demo.idle.chapter")
    captured = capfd.readouterr()
    assert code == 0, printed
    assert "Traceback" not in captured.err + captured.out + printed
    assert "not been implemented" not in captured.err


def test_every_slack_post_is_printed_with_a_body(demo: DemoRun) -> None:
    _, out, printed = demo
    received = json.loads((out / "slack.json").read_text())
    lines = printed.splitlines()
    heads = [i for i, line in enumerate(lines) if line.startswith("  -> Slack channel ") and "[200 ok]" in line]
    assert len(heads) == sum(1 for r in received if r["status"] == 200)
    for i in heads:
        body = lines[i + 1 : i + 3]
        assert len(body) == 2 and all(b.startswith("     ") and b.strip() for b in body), lines[i]


def test_no_python_reprs_in_the_narration(demo: DemoRun) -> None:
    _, _, printed = demo
    assert re.search(r"\{'[A-Za-z_]+': ", printed) is None
