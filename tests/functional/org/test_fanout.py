"""The organization run end to end: Step Functions (moto, executing) runs the deployed definition; its Lambda tasks
are the real handlers in-process; they assume member roles (STS) and reap in the member accounts (EC2).

Covered (issue 12 acceptance): a failing account, the global cap across accounts, per-account attribution by
account tag, an excluded account.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import EXPIRED, Org, configure, create_state_table, state_machine

BASE: dict[str, Any] = {"organization_id": "o-abcdefghij", "deployment_targets": ["r-ab12"], "regions": ["us-east-1"]}


def _settings(world: Org, *, global_cap: int, account_cap: int, dry_run: bool = False) -> dict[str, Any]:
    return {
        "reaper": {"dry_run": dry_run, "max_actions_per_run": global_cap},
        "organization": {
            **BASE,
            "enabled": True,
            "exclude_accounts": [world.accounts["legal"]],
            "max_actions_per_account": account_cap,
        },
    }


def test_reaps_across_accounts_reports_the_failing_one_and_skips_the_excluded(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    vision, shared, legal, acquired = (org.accounts[n] for n in ("vision", "shared", "legal", "acquired"))
    untagged = org.instances(vision, expires_at=EXPIRED)[0]  # no team tag: the account's team (vision) owns it
    tagged = org.instances(shared, expires_at=EXPIRED, team="nlp")[0]
    kept = org.instances(legal, expires_at=EXPIRED, team="legal")[0]  # excluded account: never touched
    org.instances(acquired, expires_at=EXPIRED, team="acq")
    org.denied_accounts = {acquired}  # the StackSet has not reached it: AssumeRole is refused
    org.deny_assume_role()
    configure(monkeypatch, **_settings(org, global_cap=10, account_cap=5))

    summary = org.run(state_machine(org))

    assert org.state_of(vision, untagged) == "terminated"
    assert org.state_of(shared, tagged) == "terminated"
    assert org.state_of(legal, kept) == "running"
    assert summary["failed_accounts"] == [acquired]
    assert "AccessDenied" in summary["accounts"][acquired]["errors"][0]
    assert summary["skipped_accounts"][legal].startswith("excluded")
    assert summary["total_planned"] == 2 and summary["approved_actions"] == 2
    assert summary["accounts"][vision]["done"] == 1 and summary["accounts"][shared]["done"] == 1

    reaped = {a["team"]: a for a in org.alerts() if a["kind"] == "reaped"}
    assert set(reaped) == {"vision", "nlp"}
    # Attribution: the untagged instance's alert went to the account's team, labelled "account default".
    assert reaped["vision"]["details"]["figures"]["Owner"].startswith("account default")
    assert reaped["vision"]["details"]["figures"]["Account"] == vision
    assert "Owner" not in reaped["nlp"]["details"]["figures"]


def test_the_global_cap_counts_every_account_and_blocks_them_all(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    vision, shared = org.accounts["vision"], org.accounts["shared"]
    ids = org.instances(vision, n=2, expires_at=EXPIRED, team="vision") + org.instances(
        shared, n=2, expires_at=EXPIRED, team="nlp"
    )
    # Each account (2) is within its cap (3); together (4) they are over the global cap (3).
    configure(monkeypatch, **_settings(org, global_cap=3, account_cap=3))

    summary = org.run(state_machine(org))

    assert summary["blocked_globally"] is True and summary["total_planned"] == 4
    assert all(org.state_of(vision if i in ids[:2] else shared, i) == "running" for i in ids)
    blocked = [a for a in org.alerts() if a["kind"] == "reap_blocked"]
    assert len(blocked) == 1 and blocked[0]["severity"] == "critical"
    assert "4 actions planned across the organization, the cap is 3" in blocked[0]["title"]


def test_the_per_account_cap_blocks_one_account_and_the_others_act(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    vision, shared = org.accounts["vision"], org.accounts["shared"]
    crowded = org.instances(vision, n=3, expires_at=EXPIRED, team="vision")
    single = org.instances(shared, expires_at=EXPIRED, team="nlp")[0]
    configure(monkeypatch, **_settings(org, global_cap=10, account_cap=2))

    summary = org.run(state_machine(org))

    assert summary["blocked_accounts"] == {vision: 3}
    assert [org.state_of(vision, i) for i in crowded] == ["running"] * 3
    assert org.state_of(shared, single) == "terminated"


def test_dry_run_plans_everywhere_and_acts_nowhere(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    vision = org.accounts["vision"]
    instance = org.instances(vision, expires_at=EXPIRED, team="vision")[0]
    configure(monkeypatch, **_settings(org, global_cap=10, account_cap=5, dry_run=True))

    summary = org.run(state_machine(org))

    assert summary["total_planned"] == 1 and summary["approved_items"] == 1
    assert summary["accounts"][vision]["done"] == 0
    assert org.state_of(vision, instance) == "running"


def test_the_tag_audit_runs_per_account_in_one_phase(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    vision = org.accounts["vision"]
    org.instances(vision, expires_at="2099-01-01")  # no team tag: a violation owned by the account's team
    configure(monkeypatch, **_settings(org, global_cap=10, account_cap=5))

    summary = org.run(state_machine(org, capability="tag_audit", two_phase=False))

    assert summary["capability"] == "tag_audit"
    assert summary["items"] == 3  # vision + shared + acquired, one region
    assert summary["failed_accounts"] == []
    assert org.accounts["legal"] in summary["skipped_accounts"]  # excluded
    assert summary["skipped_accounts"]["123456789012"].startswith("the deployment account")


def test_the_idle_finder_runs_per_account_and_alerts_each_team_once(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    vision, shared, legal = (org.accounts[n] for n in ("vision", "shared", "legal"))
    untagged = org.old_volume(vision, 100)  # no team tag: the account's team (vision) owns it
    tagged = [org.old_volume(vision, 50, team="nlp"), org.old_volume(shared, 20, team="nlp")]
    org.old_volume(legal, 10, team="legal")  # excluded account: never scanned
    create_state_table(monkeypatch)  # the weekly de-duplication lives here
    configure(monkeypatch, **_settings(org, global_cap=10, account_cap=5))

    machine = state_machine(org, capability="idle", two_phase=False)
    summary = org.run(machine)

    assert summary["capability"] == "idle"
    assert summary["idle"]["teams"] == {"nlp": 2, "vision": 1}
    idle = {a["team"]: a for a in org.alerts() if a["kind"] == "idle"}
    assert set(idle) == {"vision", "nlp"}  # one alert per team for the whole organization, none for legal
    assert [f["id"] for f in idle["vision"]["details"]["findings"]] == [untagged]
    assert idle["vision"]["details"]["figures"]["Owner"] == f"account default (team tag of account {vision})"
    assert sorted(f["id"] for f in idle["nlp"]["details"]["findings"]) == sorted(tagged)  # across two accounts
    assert "Owner" not in idle["nlp"]["details"]["figures"]
    assert idle["nlp"]["details"]["figures"]["Accounts"] == ", ".join(sorted({vision, shared}))

    # The same week again: the per-team alerts are not sent twice.
    assert org.run(machine)["idle"]["alerts_sent"] == []
    assert [a for a in org.alerts() if a["kind"] == "idle"] == []
