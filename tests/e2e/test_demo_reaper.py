"""The demo's reaper chapter on the local moto server: a plan, the applied run, nothing outside the plan touched."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from costwarden.demo.runner import run_demo
from costwarden.models.alert import AlertEvent, AlertKind

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path, str]:
    from moto.moto_api._internal.models import moto_api_backend

    # moto's server keeps its backends in this process: another demo run before this one left its account behind.
    moto_api_backend.reset()
    out = tmp_path_factory.mktemp("demo-reaper")
    printed = io.StringIO()
    try:
        code = run_demo(out, stream=printed)
    finally:
        moto_api_backend.reset()
    return code, out, printed.getvalue()


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
    assert "done this run: {'vision-explore': 'delete'}" in applied


def test_reaper_alerts_reached_the_teams(demo: tuple[int, Path, str]) -> None:
    _, out, _ = demo
    alerts = [AlertEvent.model_validate(a) for a in json.loads((out / "alerts.json").read_text())]
    kinds = {(a.kind, a.team) for a in alerts}
    assert {(AlertKind.REAPED, "vision"), (AlertKind.REAPED, "nlp"), (AlertKind.TAG_VIOLATION, "vision")} <= kinds
    assert (AlertKind.EXPIRY_WARNING, "nlp") in kinds
