"""On the one session demo run (issue 22, parts 5 and 6): the November report a platform lead reads — every team with
a budget shows its status, the waste section lists the idle finder's findings, the daily trend adds up to the
ledger's month and marks the anomaly episodes, savings read "save X/month by ..." — and the last chapter's button
press, through the signed endpoint, stops the idle box once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from costwarden.core.money import usd
from costwarden.demo import cost
from costwarden.demo.timeline import RUN_DAY
from costwarden.models.alert import AlertEvent, AlertKind

pytestmark = pytest.mark.e2e

DemoRun = tuple[int, Path, str]
MONTH = "2026-11"


def _section(html: str, title: str) -> str:
    return html.split(f"<h2>{title}</h2>", 1)[1].split("<h2>", 1)[0]


def test_every_team_with_a_budget_and_every_pool_shows_its_status(demo: DemoRun) -> None:
    _, out, _ = demo
    html = (out / f"report-{MONTH}.html").read_text()
    report = {t["team"]: t for t in json.loads((out / f"report-{MONTH}.json").read_text())["teams"]}
    budgets = cost.budgets_for(cost.line_items(), RUN_DAY)
    rows = re.findall(
        r'<tr><td><a href="#team-([^"]+)">[^<]+</a></td><td>month</td><td>([^<]+)</td><td>[^<]+</td><td>[^<]+</td>'
        r'<td><span class="badge ([A-Z_]+)">',
        _section(html, "Budgets"),
    )
    shown = {team: (amount, status) for team, amount, status in rows}
    assert budgets and set(shown) == set(budgets)
    for team, amount in budgets.items():
        assert shown[team] == (usd(amount), report[team]["budget"]["status"]), team
    pools = re.findall(
        r'<tr><td><a href="#team-speech">speech</a></td><td>(\w+) pool</td><td>([^<]+)</td><td>([^<]+)</td>'
        r'<td>[^<]+</td><td><span class="badge ([A-Z_]+)">',
        _section(html, "Budgets"),
    )
    assert sorted(pools) == [
        ("experiment", usd(cost.SPEECH_POOLS["experiment"]), "$12,886", "OVER_BUDGET"),  # the sweeps, actual spend
        ("production", usd(cost.SPEECH_POOLS["production"]), "$7,200", "ON_TRACK"),
    ]


def test_the_waste_section_lists_the_demos_idle_findings(demo: DemoRun) -> None:
    _, out, _ = demo
    html = (out / f"report-{MONTH}.html").read_text()
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    # The idle chapter's findings; the EKS chapter's idle GPU node comes later, from its own month of split cost data.
    found = {
        f["id"]: f
        for a in alerts
        if a.kind is AlertKind.IDLE
        for f in a.details.get("findings", [])
        if f.get("id") and f.get("type") != "eks_gpu_node"
    }
    waste = _section(html, "Waste and savings")
    assert len(found) == 4  # the idle chapter's four findings (the GPU box, the CPU-bound one, an endpoint, EMR)
    for ident, finding in found.items():
        line = re.search(rf"<li><b>([^<]+)/month</b> · [^<]+ <code>{re.escape(ident)}</code>.*?</li>", waste)
        assert line is not None, ident
        assert line.group(1) == usd(finding["monthly_usd"]), ident
        assert f"<code>{finding['commands'][0]}</code>" in line.group(0), ident
    assert f"Idle: 4 resources, {usd(sum(f['monthly_usd'] for f in found.values()))}/month" in waste


def test_savings_read_as_actions_without_internal_states(demo: DemoRun) -> None:
    _, out, _ = demo
    html = (out / f"report-{MONTH}.html").read_text()
    saves = re.findall(r"<b>save (\$[\d,]+)/month by ([^<]+)</b> \(([^;]+); owner ([^)]+)\)", html)
    report = json.loads((out / f"report-{MONTH}.json").read_text())
    assert len(saves) >= len(report["savings_actions"]) == 8
    assert ("$457", "adding lifecycle rules to bucket vision-experiments (expire or tier what it no longer reads)",
            "vision", "team vision") in saves  # fmt: skip
    assert "aws s3api put-bucket-lifecycle-configuration --bucket vision-experiments" in html
    assert "not useful today" not in html and "(none today)" not in html


def test_the_daily_trend_is_the_ledgers_month_with_its_episodes(demo: DemoRun) -> None:
    _, out, _ = demo
    report = json.loads((out / f"report-{MONTH}.json").read_text())
    ledger = json.loads((out / f"ledger-{MONTH}.json").read_text())
    assert [d["date"] for d in report["daily"]] == [f"{MONTH}-{day:02d}" for day in range(1, 31)]
    assert sum(d["usd"] for d in report["daily"]) == pytest.approx(ledger["account_usd"], abs=0.05)
    episodes = {(e["team"], e["start"], e["severity"]) for e in report["episodes"]}
    assert ("vision", "2026-11-19", "critical") in episodes
    html = (out / f"report-{MONTH}.html").read_text()
    assert "<li>vision: critical, 2026-11-19 to 2026-11-21</li>" in _section(html, "Daily trend")


def test_every_table_has_a_change_column_and_the_teams_table_its_untagged_and_total_rows(demo: DemoRun) -> None:
    _, out, _ = demo
    html = (out / f"report-{MONTH}.html").read_text()
    tables = re.findall(r"<table>.*?</table>", html, re.S)
    assert len(tables) > 10 and all("<th>change</th>" in t for t in tables)
    account = json.loads((out / f"report-{MONTH}.json").read_text())["account"]
    teams = _section(html, "Teams")
    assert re.search(r'<tr class="untagged"><td><a href="#team-unowned">unowned \(no team tag\)</a></td>', teams)
    assert f'<tr class="total"><td>Total</td><td>{usd(account["this_month_usd"])}</td>' in teams


def test_a_button_press_goes_end_to_end_through_the_signed_endpoint(demo: DemoRun) -> None:
    code, out, printed = demo
    assert code == 0, printed
    received = json.loads((out / "slack.json").read_text())
    buttons = {
        e["action_id"].split("_")[1] + "_" + e["action_id"].split("_")[2]
        for r in received
        for b in (r["message"] or {}).get("blocks", [])
        if b.get("type") == "actions"
        for e in b["elements"]
    }
    assert {"idle_keep", "idle_stop"} <= buttons  # the Slack app is on for the whole demo
    chapter = printed.split("Chapter 9: ", 1)[1]
    box = re.search(r"presses 'Stop (i-[0-9a-f]+)'", chapter)
    assert box is not None
    assert "a request signed with another secret: HTTP 401 'invalid request signature', not parsed" in chapter
    assert re.search(r"Slack's signed POST \(\d+ bytes, X-Slack-Signature v0=[0-9a-f]{9}\.\.\.\): HTTP 200", chapter)
    assert "  -> the Slack app's reply on the pressed message (response_url) /actions/" in chapter
    assert f"Stopped ec2:instance {box.group(1)} by <@U0DEMOONCL>" in chapter
    assert f"{box.group(1)} is now stopped" in chapter
    assert "the same request again (a Slack retry): HTTP 200; handed to the worker: 0" in chapter
