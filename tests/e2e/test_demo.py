"""``costwarden demo`` end to end: local moto server + Slack stand-in, every chapter, the output files agree."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from costwarden.demo.stack import DEMO_TEAM_CHANNELS, webhook_paths
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.notifier.routing import parse_webhooks, routes_for

pytestmark = pytest.mark.e2e


def _expected_channels(event: AlertEvent) -> list[str]:
    """The routing rules applied to the demo's workspace (channel names only)."""
    paths = webhook_paths()
    slack = "https://hooks.slack.com"  # only parsed here: the demo itself posts to the stand-in
    teams = {team: slack + paths["team:" + team] for team in DEMO_TEAM_CHANNELS}
    hooks = parse_webhooks({"default": slack + paths["default"], "oncall": slack + paths["oncall"], "teams": teams})
    return [route.channel for route in routes_for(event, hooks)]


def test_demo_exits_zero_and_writes_its_files(demo: tuple[int, Path, str]) -> None:
    code, out, printed = demo
    assert code == 0, printed
    assert {"alerts.json", "slack.json", "function-logs.jsonl"} <= {p.name for p in out.iterdir()}


def test_one_alert_of_each_severity_was_published(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    assert {Severity.INFO, Severity.WARNING, Severity.CRITICAL} <= {a.severity for a in alerts}


def _dedup_key(received: dict[str, Any]) -> str:
    """The alert a post carries: its dedup key, in the message metadata (never in the visible text)."""
    return str(received["message"]["metadata"]["event_payload"]["dedup_key"])


def test_every_published_alert_reached_exactly_its_channels(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    posted = [r for r in received if r["status"] == 200 and r["answer"] == "ok"]
    unique = {alert.dedup_key: alert for alert in alerts}  # a re-published alert is posted once

    for alert in unique.values():
        got = [r["channel"] for r in posted if _dedup_key(r) == alert.dedup_key]
        assert got == _expected_channels(alert), alert.title
    assert len(posted) == sum(len(_expected_channels(a)) for a in unique.values())
    # Anything not posted was a transient answer that was retried (the chapter's scripted 429).
    assert all(r["status"] == 429 or r["status"] >= 500 for r in received if r not in posted)


def test_rate_limited_post_was_retried_and_duplicate_not_reposted(demo: tuple[int, Path, str]) -> None:
    _, out, printed = demo
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    vision = [r["status"] for r in received if r["channel"] == "team:vision"]
    assert vision[:2] == [429, 200]
    alerts = json.loads((out / "alerts.json").read_text())
    assert len(alerts) > len({a["dedup_key"] for a in alerts})  # the chapter published one alert twice
    assert "already delivered" in printed


def test_critical_alert_went_to_oncall_too(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    oncall = [r for r in received if r["channel"] == "oncall"]
    assert oncall
    assert all(":rotating_light:" in r["message"]["blocks"][0]["text"]["text"] for r in oncall)


def test_printout_shows_what_slack_received(demo: tuple[int, Path, str]) -> None:
    _, out, printed = demo
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    assert printed.count("-> Slack channel") == len(received)
    assert received[0]["status"] == 429
    first_header = received[1]["message"]["blocks"][0]["text"]["text"].split(" ", 1)[1]
    assert first_header in printed


def test_chapter_5_ends_with_the_next_mornings_digest_in_the_default_channel(demo: tuple[int, Path, str]) -> None:
    from costwarden.demo.timeline import DIGEST_DAY

    _, out, printed = demo
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    judged = (DIGEST_DAY - timedelta(days=1)).isoformat()
    # Chapter 5's digest is the last one before chapter 7's month-end digest (about 30 November).
    digests = [a.details["digest"]["date"] for a in alerts if a.kind is AlertKind.DIGEST]
    assert digests[-3:] == [judged, "2026-11-30", "2026-11-28"]  # the last: the EKS chapter's (9)
    received: list[dict[str, Any]] = json.loads((out / "slack.json").read_text())
    last = [r for r in received if f"digest#{judged}" in json.dumps(r["message"])][-1]
    assert (last["channel"], last["status"]) == ("default", 200)
    # Chapter 5 prints that digest in full, the cost chapter's earlier ones in one line; the idle finder (6) and the
    # four levers (7) play weeks later on the real clock.
    assert f"Daily cost digest — {judged}" in printed.split("Chapter 5: The next morning")[1].split("Chapter 6:")[0]
    assert printed.split("Chapter 6: ", 1)[1].startswith("Weeks later: the idle finder")
    assert printed.split("Chapter 7: ", 1)[1].startswith("The four levers")
    assert printed.split("Chapter 8: ", 1)[1].startswith("Organization scale")
    assert printed.split("Chapter 9: ", 1)[1].startswith("Kubernetes on EKS")
    assert printed.split("Chapter 10: ", 1)[1].startswith("Minutes, not a day")
    assert printed.rsplit("Chapter ", 1)[1].startswith("11: One click")
    assert printed.count(f"Daily cost digest — {judged}") == 1
    # The cost chapter's digests are printed with their head (title and headline figures), the rest left to chapter 5.
    cost_chapter = printed.split("Chapter 3:")[0]
    assert cost_chapter.count("(the rest of this digest is not shown here: chapter 5 shows one in full)") == 2
    assert cost_chapter.count("Daily cost digest — ") == 2 and "Month to date: $" in cost_chapter


def test_the_digest_shows_the_reapers_night_and_the_open_anomalies(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    from costwarden.demo.timeline import DIGEST_DAY

    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    judged = (DIGEST_DAY - timedelta(days=1)).isoformat()
    [digest] = [a for a in alerts if a.kind is AlertKind.DIGEST and a.details["digest"]["date"] == judged]
    reaper = digest.details["reaper"]
    assert reaper is not None and reaper["dry_run"] is False
    # The reaper chapter's applied run (7 resources) and the next hourly run (the notebook: stopped, then deleted),
    # one outcome per resource; the production and protected ones it left alone on purpose.
    assert (reaper["counts"]["done"], reaper["counts"]["planned"], reaper["counts"]["failed"]) == (7, 0, 0)
    lines = {line["resource"].rsplit("/", 1)[-1]: line["status"] for line in reaper["lines"]}
    assert lines["vision-explore"] == "done"
    assert "skipped" in lines.values()
    assert len(digest.details["expiring"]) == 1  # the nlp instance expiring in 20 h
    anomalies = {(a["team"], a["severity"]) for a in digest.details["anomalies"]}
    assert {("vision", "critical"), ("nlp", "warning")} <= anomalies
    assert digest.details["untagged"]["share_pct"] > 0
    assert digest.details["figures"]["Budgets"].startswith("1 at risk")


def test_function_logs_name_no_webhook(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    logs = (out / "function-logs.jsonl").read_text()
    assert "posted to slack" in logs
    for path in webhook_paths().values():
        assert path not in logs


def test_use_settings_validates_and_reaches_load_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from costwarden.demo.env import DemoEnv
    from costwarden.demo.slack_standin import SlackStandIn
    from costwarden.settings import SettingsError, load_settings

    monkeypatch.delenv("COSTWARDEN_SETTINGS", raising=False)
    monkeypatch.delenv("COSTWARDEN_TEAMS_FILE", raising=False)  # use_settings delivers the team directory as deployed
    env = DemoEnv("http://127.0.0.1:1", "us-east-1", "123456789012", "", "", "", "", "", SlackStandIn(), tmp_path)

    env.use_settings({"budgets": {"monthly_usd": {"vision": 20000}}})

    assert load_settings().monthly_budgets() == {"vision": 20000}
    assert (tmp_path / "teams.json").is_file()
    with pytest.raises(SettingsError, match=r"budgets\.monthly_usd"):
        env.use_settings({"budgets": {"monthly_usd": {"vision": -1}}})


def test_chapter_7_four_levers_and_an_offline_report(demo: tuple[int, Path, str]) -> None:
    import re

    _, out, printed = demo
    chapter = printed.split("Chapter 7:")[1]
    assert "TOTAL" in chapter and "13,138" in chapter  # the source's fleet
    assert "planned: put_lifecycle on vision-experiments" in chapter
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    kinds = {(a.kind.value, a.team) for a in alerts}
    assert {("savings", "vision"), ("report", "vision"), ("commitment", "platform")} <= kinds
    report = next(a for a in alerts if a.kind is AlertKind.REPORT and a.team == "vision")
    assert "#team-vision" in str(report.details["url"])
    html = (out / "report-2026-11.html").read_text()
    assert re.search(r"(?i)(https?:|<script|<link|\bsrc=|url\()", html) is None and "<svg" in html
