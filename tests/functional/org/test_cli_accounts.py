"""``costwarden reap --accounts`` and ``costwarden tags audit --accounts`` on a simulated organization (moto)."""

from __future__ import annotations

import json

import pytest
from costwarden.cli.main import main

from .conftest import EXPIRED, Org, configure

SETTINGS = {"organization": {"regions": ["us-east-1"]}}


def test_reap_plans_every_account_with_an_account_field(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vision, shared = org.accounts["vision"], org.accounts["shared"]
    untagged = org.instances(vision, expires_at=EXPIRED)[0]
    org.instances(shared, expires_at=EXPIRED, team="nlp")
    configure(monkeypatch, **SETTINGS)

    code = main(["reap", "--accounts", "all", "--format", "json"])

    out = capsys.readouterr()
    rows = json.loads(out.out)["results"]
    assert code == 0
    by_account = {r["account"]: r for r in rows}
    assert set(by_account) == {vision, shared}
    assert by_account[vision]["team"] == "vision" and by_account[vision]["attribution"] == "account default"
    assert by_account[vision]["id"] == untagged and by_account[vision]["status"] == "planned"
    assert by_account[shared]["team"] == "nlp" and by_account[shared]["attribution"] == "tag"
    assert org.state_of(vision, untagged) == "running"  # plan only
    assert "2 action(s) planned" in out.err


def test_reap_table_has_an_account_column_and_a_failing_account_exits_3_partial(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vision, acquired = org.accounts["vision"], org.accounts["acquired"]
    org.instances(vision, expires_at=EXPIRED, team="vision")
    org.denied_accounts = {acquired}
    org.deny_assume_role()
    configure(monkeypatch, **SETTINGS)

    code = main(["reap", "--accounts", f"{vision},{acquired}", "--role-name", "OrgReadRole"])

    out = capsys.readouterr()
    assert code == 3  # partial: one account could not be read (docs/cli.md exit codes)
    assert out.out.splitlines()[0].startswith("ACCOUNT")
    assert "INCOMPLETE" in out.out and acquired in out.out.split("INCOMPLETE", 1)[1]
    assert vision in out.out
    assert (
        f"account {acquired} us-east-1: account {acquired}: cannot assume arn:aws:iam::{acquired}:role/OrgReadRole"
        in out.err
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reap", "--accounts", "12,abc"], "not a 12-digit account id: 12, abc"),
        (["reap", "--accounts", "all", "--apply"], "--apply with --accounts is refused"),
        (["reap", "--accounts", "all", "--role-name", "bad role"], "--role-name: not an IAM role name"),
        (["reap", "--accounts", "999999999999"], "not in this organization: 999999999999"),
    ],
)
def test_user_errors_exit_2_without_a_traceback(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    configure(monkeypatch, **SETTINGS)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_tags_audit_across_accounts(
    org: Org, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    vision = org.accounts["vision"]
    org.instances(vision, project="x")  # no team tag: owned by the account's team, labelled so
    configure(monkeypatch, **SETTINGS)

    code = main(["tags", "audit", "--accounts", vision, "--format", "json"])

    rows = json.loads(capsys.readouterr().out)["results"]
    assert code == 1  # violations found
    assert rows and all(r["account"] == vision for r in rows)
    assert rows[0]["team"] == "vision" and rows[0]["attribution"] == "account default"
