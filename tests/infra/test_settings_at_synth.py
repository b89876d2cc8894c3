"""Settings come from cdk.json context and are validated at synth: a bad value names its key and stops synth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from costwarden.settings import SettingsError

from infra.stack import build_stack
from tests.infra.conftest import SKIP_BUNDLING, synthesize

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"anomaly": {"warn_ratio": 0.5}}, "costwarden.anomaly.warn_ratio"),
        ({"reaper": {"max_actions_per_run": 0}}, "costwarden.reaper.max_actions_per_run"),
        ({"notifier": {"slack_secret_name": "https://hooks.slack.com/services/T/B/x"}}, "costwarden.notifier"),
        ({"reaper": {"dryrun": False}}, "costwarden.reaper.dryrun"),
    ],
)
def test_bad_settings_fail_stack_construction_naming_the_key(raw: dict[str, object], key: str) -> None:
    from aws_cdk import App

    app = App(context={**SKIP_BUNDLING, "costwarden": raw})
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
        build_stack(app)


def test_app_py_exits_with_the_key_named_and_no_traceback(tmp_path: Path) -> None:
    context = {**SKIP_BUNDLING, "costwarden": {"budgets": {"monthly_usd": {"vision": -5}}}}
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "costwarden.budgets.monthly_usd" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "manifest.json").exists()


def test_operator_email_and_custom_stack_tags_come_from_settings(tmp_path: Path) -> None:
    settings = {
        "notifier": {"operator_email": "finops-oncall@example.com"},
        "stack_tags": {"team": "finops", "project": "costwarden"},
    }
    synth = synthesize(tmp_path, context={"costwarden": settings})
    emails = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert emails == [
        {
            "Endpoint": "finops-oncall@example.com",
            "Protocol": "email",
            "TopicArn": {"Ref": synth.logical_id("Alerting/OperatorTopic")},
        }
    ]
    tags = synth.resource("State/Table")["Properties"]["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "finops", "project": "costwarden"}
    env = synth.resource("Notifier/Function/Function")["Properties"]["Environment"]["Variables"]
    assert json.loads(env["COSTWARDEN_SETTINGS"])["notifier"]["operator_email"] == "finops-oncall@example.com"
