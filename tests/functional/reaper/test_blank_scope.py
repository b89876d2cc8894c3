"""A blank or ambiguous scope is an error (exit 2), never the default scope: hostile cases for every command that
selects where it acts. An unset shell variable (``--accounts "$ACCOUNTS"``) must not turn into "this account"."""

from __future__ import annotations

import pytest
from costwarden.cli.main import main

from tests.functional.reaper.reaper_env import Account

EXPIRED = "2026-01-01"

BLANK_SCOPES = [
    ["reap", "--accounts", "", "--apply"],
    ["reap", "--accounts", "  ", "--apply"],
    ["reap", "--regions", "", "--apply"],
    ["reap", "--regions", " , ", "--apply"],
    ["reap", "--regions", "us-east-1,", "--apply"],
    ["reap", "--regions", "moon 1", "--apply"],
    ["idle", "--regions", ""],
    ["limits", "--regions", ""],
    ["advise", "--regions", ""],
    ["tags", "audit", "--regions", ""],
    ["tags", "audit", "--accounts", ""],
    ["plan", " nlp", "2026-12-01", "2026-12-03", "500", "load", "test"],
    ["plan", "", "2026-12-01", "2026-12-03", "500", "load", "test"],
    ["digest", "--team", " "],
]


@pytest.mark.parametrize("argv", BLANK_SCOPES, ids=lambda argv: " ".join(repr(a) for a in argv))
def test_blank_scope_exits_2_and_acts_on_nothing(
    argv: list[str], account: Account, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" in err
    assert account.instance_state(old) == "running"


def test_the_same_command_with_a_real_scope_does_act(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the refusal above is about the blank value, not about the command."""
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    (old,) = account.instances(1, team="vision", expires_at=EXPIRED)
    assert main(["reap", "--regions", "us-east-1", "--apply", "--format", "json"]) == 0
    assert account.instance_state(old) == "terminated"
