"""``costwarden run advisor|report``: hostile report events fail before any AWS request, naming the event key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.cli.main import main
from costwarden.handlers.advisor import event_month


@pytest.mark.parametrize(
    ("month", "message"),
    [("2026-13", "month must be 01-12"), ("Nov 2026", "not a month in the form YYYY-MM"), (202611, "got int")],
)
def test_a_malformed_month_fails_the_invocation_naming_the_key(
    month: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT_BUCKET_NAME", "unused")
    monkeypatch.setenv("STATE_TABLE_NAME", "unused")
    event = tmp_path / "bad.json"
    event.write_text(json.dumps({"month": month}))
    with pytest.raises(ValueError, match=message):
        event_month({"month": month})
    assert main(["run", "report", "--event", str(event)]) == 1
    err = capsys.readouterr().err
    assert "event key 'month'" in err and message in err and "Traceback" not in err


def test_the_scheduled_event_reports_last_month_and_a_manual_one_its_month() -> None:
    assert event_month({"time": "2026-12-01T06:00:00Z"}) is None
    assert event_month({"month": "2026-10"}) == "2026-10"


def test_run_advisor_says_the_dry_run_is_forced_and_apply_follows_storage_dry_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from costwarden.cli import run
    from costwarden.settings import load_settings, parse_settings

    seen: list[bool] = []
    monkeypatch.setattr(run, "invoke", lambda function, event: seen.append(load_settings().storage.dry_run) or {})
    monkeypatch.setenv("COSTWARDEN_SETTINGS", parse_settings({"storage": {"dry_run": False}}).to_env())
    load_settings.cache_clear()
    try:
        assert main(["run", "advisor"]) == 0
        assert "dry run forced" in capsys.readouterr().err
        assert main(["run", "advisor", "--apply"]) == 0
        assert "settings.storage.dry_run is false: ACTING" in capsys.readouterr().err
    finally:
        load_settings.cache_clear()
    assert seen == [True, False]
