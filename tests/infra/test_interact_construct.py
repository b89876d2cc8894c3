"""The Slack app's endpoint: only when enabled; Function URL + reserved concurrency; secret by name; cdk-nag clean;
Extend's IAM tag-conditioned; the worker not retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.conftest import Synth, actions_of, synthesize

CONTEXT = {
    "costwarden": {
        "interact": {"enabled": True, "app_secret_name": "team/slack-app", "reserved_concurrency": 3},
        "tags": {"expires_key": "ttl_until", "optional": ["ttl_until"]},
    }
}


@pytest.fixture(scope="module")
def enabled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-interact"), CONTEXT)


def _plugin(synth: Synth) -> dict[str, object]:
    (plugin,) = [p for p in synth.report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    return plugin


def test_endpoint_is_a_function_url_with_reserved_concurrency(enabled: Synth) -> None:
    [url] = enabled.resources("AWS::Lambda::Url").values()
    assert url["Properties"]["AuthType"] == "NONE"  # Slack cannot sign SigV4: the function verifies Slack's HMAC
    function = enabled.resource("Interact/Function/Function")
    assert function["Properties"]["ReservedConcurrentExecutions"] == 3
    [config] = [
        c
        for c in enabled.resources("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": enabled.logical_id("Interact/Function/Function")}
    ]
    assert config["Properties"]["MaximumRetryAttempts"] == 0  # a retried Extend would extend twice
    outputs = enabled.template["Outputs"]
    assert any("InteractivityUrl" in key for key in outputs)


def test_cdk_nag_clean_and_nothing_secret_in_the_template(enabled: Synth) -> None:
    plugin = _plugin(enabled)
    assert plugin["conclusion"] == "success" and plugin["violations"] == []
    text = json.dumps(enabled.template)
    assert "team/slack-app" in text  # the name, and only the name
    assert "signing_secret" not in text and "xoxb" not in text and "hooks.slack.com" not in text


def test_extend_permissions_carry_the_reapers_tag_conditions(enabled: Synth) -> None:
    [policy] = [p for key, p in enabled.resources("AWS::IAM::Policy").items() if key.startswith("InteractExtendPolicy")]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    writes = [
        s
        for s in statements
        if str(s.get("Sid", "")).startswith("Extend") and s["Sid"] not in ("ExtendRead", "ExtendTagResources")
    ]
    assert writes
    for statement in writes:
        condition = statement["Condition"]
        assert any(k.endswith("/ttl_until") for k in condition["Null"])
        assert any(k.endswith("/costwarden:protect") for k in condition["StringNotEqualsIgnoreCase"])
        assert any(k.endswith("/environment") for k in condition["StringNotEqualsIgnoreCase"])
    invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    assert len(invoke) == 1 and invoke[0]["Resource"] != "*"


def test_no_endpoint_without_the_app(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {}})
    assert synth.resources("AWS::Lambda::Url") == {}


HARD_LIMIT = {
    "costwarden": {
        "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
        "budgets": {"hard_limit": {"nlp": "approve", "vision": "off"}},
        "teams": {"nlp": {"slack": {"launch_roles": ["nlp-launcher"]}}, "vision": {"slack": {"launch_roles": ["v"]}}},
    }
}


def test_hard_limit_role_only_when_a_team_opts_in(enabled: Synth, tmp_path: Path) -> None:
    assert not any("HardLimitRole" in key for key in enabled.resources("AWS::IAM::Role"))
    synth = synthesize(tmp_path, HARD_LIMIT)
    plugin = _plugin(synth)
    assert plugin["conclusion"] == "success" and plugin["violations"] == []
    [policy] = [p for key, p in synth.resources("AWS::IAM::Policy").items() if "HardLimitPolicy" in key]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [stop] = [s for s in statements if s["Action"] == "ec2:StopInstances"]
    assert stop["Condition"]["StringEquals"]["aws:ResourceTag/team"] == ["nlp"]  # opted-in teams only
    assert stop["Condition"]["StringNotEqualsIgnoreCase"] == {"aws:ResourceTag/costwarden:protect": "true"}
    [roles] = [s for s in statements if s["Action"] == ["iam:PutRolePolicy", "iam:DeleteRolePolicy"]]
    assert "nlp-launcher" in json.dumps(roles["Resource"]) and "role/v" not in json.dumps(roles["Resource"])


def test_the_notifier_may_read_the_app_secret_for_its_bot_token(enabled: Synth) -> None:
    """issue 22: with the app on, the notifier reads the app's secret (bot token: e-mail lookups, direct messages),
    read only, by name. Without the app it reads the webhook secret alone (test_stack.py's one-statement test)."""
    statements = enabled.role_statements(enabled.logical_id("Notifier/Function/Role"))
    reads = [s for s in statements if any(a.startswith("secretsmanager:") for a in actions_of(s))]
    assert [set(actions_of(s)) for s in reads] == [
        {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    ] * 2
    resources = [json.dumps(s["Resource"]) for s in reads]
    assert any(":secret:team/slack-app-??????" in r for r in resources)
    assert any(":secret:costwarden/slack-webhooks-??????" in r for r in resources)
