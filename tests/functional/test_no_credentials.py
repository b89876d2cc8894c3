"""With no AWS credentials every account-reading command says, on stdout, that it could not run (exit 3): never a
clean verdict ("nothing carries expires_at", "no idle resources found") and never a traceback.

No moto here on purpose: botocore refuses to sign without credentials before anything is sent, and the instance
metadata lookup is disabled, so nothing leaves the machine.
"""

from __future__ import annotations

import json

import pytest
from costwarden.cli.main import EXIT_COULD_NOT_RUN, main

SETTINGS = {"teams": {"nlp": {"monthly_usd": 1000, "limits": {"development_instances": 2}}}}
CLEAN_VERDICTS = ("nothing carries", "no idle resources found", "no tag violations")

COMMANDS = [
    ["reap"],
    ["reap", "--apply"],
    ["idle"],
    ["tags", "audit"],
    ["limits"],
    ["budgets"],
    ["advise"],
    ["reap", "--accounts", "all"],
    ["tags", "audit", "--accounts", "all"],
]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "STATE_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(SETTINGS))


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
@pytest.mark.usefixtures("no_credentials")
def test_no_credentials_is_could_not_run_on_stdout(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == EXIT_COULD_NOT_RUN, (out, err)
    assert "could not run" in out or "INCOMPLETE" in out
    assert "credentials" in out.lower()
    assert not any(clean in out for clean in CLEAN_VERDICTS)
    assert "Traceback" not in out + err


@pytest.mark.usefixtures("no_credentials")
def test_report_without_credentials_could_not_run(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", "--out", f"{tmp_path}/report.html"])
    out, err = capsys.readouterr()
    assert code == EXIT_COULD_NOT_RUN and "could not run" in out and "Traceback" not in out + err


def test_a_closed_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`costwarden digest | head`: the reader went away; no BrokenPipeError traceback, the shell's SIGPIPE code."""

    def closed(*_args: object, **_kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    import sys

    monkeypatch.setattr(sys.stdout, "write", closed)
    assert main(["digest"]) == 141
    monkeypatch.undo()
    assert "Traceback" not in capsys.readouterr().err
