"""The idle finder's function, schedule and role: read-only by default; with ``idle.action: expire`` tagging only
the expiry and marker keys on development/experiment resources without the protect tag (and denied on protected and
production ones); cdk-nag clean in both modes."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.idle.iam import read_actions
from costwarden.idle.service import SCANNED_TYPES
from costwarden.resources import REGISTRY
from costwarden.resources.base import UNTAG_ACTIONS

from tests.infra.conftest import Synth, actions_of, synthesize

TAGGING = {a for name in SCANNED_TYPES for p in REGISTRY[name].tag_permissions for a in p.actions}
TAGGING |= {UNTAG_ACTIONS[a] for a in set(TAGGING)}


def _statements(synth: Synth) -> list[dict[str, Any]]:
    return synth.role_statements(synth.logical_id("IdleFinder/Function/Role"))


def _actions(statement: dict[str, Any]) -> set[str]:
    return set(actions_of(statement))


def test_report_mode_is_read_only_with_a_daily_schedule(synth: Synth) -> None:
    statements = _statements(synth)
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in _actions(s)}
    assert set(read_actions()) <= allowed
    assert not allowed & TAGGING
    for name in SCANNED_TYPES:
        assert set(REGISTRY[name].read_permissions) <= allowed, name
    rules = [r for path, r in synth.resources("AWS::Events::Rule").items() if "IdleFinder" in path]
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["cron(15 6 * * ? *)"]
    function = synth.resource("IdleFinder/Function/Function")["Properties"]
    assert function["Handler"] == "costwarden.handlers.idle.handler"


@pytest.fixture(scope="module")
def expire(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {"costwarden": {"idle": {"action": "expire", "marker_key": "cw-idle"}, "tags": {"expires_key": "ttl"}}}
    return synthesize(tmp_path_factory.mktemp("cdk-idle"), context)  # raises on any cdk-nag finding


def test_expire_mode_tags_only_its_keys_on_dev_and_experiment_resources(expire: Synth) -> None:
    statements = _statements(expire)
    tagging = [s for s in statements if s["Effect"] == "Allow" and _actions(s) & TAGGING]
    assert {a for s in tagging for a in _actions(s)} == TAGGING
    for statement in tagging:
        condition = statement["Condition"]
        assert condition["ForAllValues:StringEquals"] == {"aws:TagKeys": ["ttl", "cw-idle"]}
        (env_key,) = condition["StringEqualsIgnoreCase"]
        assert env_key.endswith("/environment")
        assert condition["StringEqualsIgnoreCase"][env_key] == ["development", "experiment"]
        (protect_key,) = condition["StringNotEqualsIgnoreCase"]
        assert protect_key.endswith("/costwarden:protect")
        assert statement["Resource"] != "*"
        if _actions(statement) <= set(UNTAG_ACTIONS.values()):
            (marker,) = condition["Null"]
            assert marker.endswith("/cw-idle")
    denies = [s for s in statements if s["Effect"] == "Deny"]
    denied = {a for s in denies for a in _actions(s)}
    assert denied >= TAGGING
    values = {next(iter(s["Condition"]["StringEqualsIgnoreCase"].values())) for s in denies}
    assert values == {"true", "production"}
