"""The demo's reaper chapter on the local moto server: a plan, the applied run, nothing outside the plan touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from costwarden.models.alert import AlertEvent, AlertKind

pytestmark = pytest.mark.e2e


def test_reaper_chapter_plans_applies_and_touches_nothing_else(demo: tuple[int, Path, str]) -> None:
    code, _, printed = demo
    assert code == 0, printed
    chapter = printed.split("The reaper:", 1)[1]
    plan, applied = chapter.split("costwarden reap --apply", 1)
    assert "-> planned 7, done 0" in plan
    assert "-> planned 0, done 7" in applied
    assert "Verified: nothing outside the plan was touched." in applied
    assert "tag the group instead" in plan and "termination protection is on" in plan
    assert "environment=production: never touched" in plan and "protected by costwarden:protect=true" in plan
    assert "done this run: delete vision-explore\n" in applied  # exactly that one action, no repr


def test_reaper_alerts_reached_the_teams(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    kinds = {(a.kind, a.team) for a in alerts}
    assert {(AlertKind.REAPED, "vision"), (AlertKind.REAPED, "nlp"), (AlertKind.TAG_VIOLATION, "vision")} <= kinds
    assert (AlertKind.EXPIRY_WARNING, "nlp") in kinds
