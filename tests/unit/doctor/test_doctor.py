"""``costwarden doctor`` on moto: every check passes on a complete simulated account, and fails with its fix named
when its piece is removed (one test per check). APIs moto lacks (ce:ListCostAllocationTags, Data Exports'
ListExports, lambda:GetAccountSettings) get a canned answer through botocore's before-call hook, as Stubber does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from costwarden.cli.main import main
from costwarden.doctor import checks
from costwarden.services import doctor
from costwarden.settings import Settings, parse_settings
from moto import mock_aws

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
EMAIL = "ops@example.com"
WEBHOOKS = {"default": "https://hooks.slack.com/services/T000/B000/abcdef"}
PREFIX = "costwarden/costwarden-cost/data/"
SETTINGS: dict[str, Any] = {
    "cost_source": "athena",
    "notifier": {"operator_email": EMAIL},
    "interact": {"enabled": True, "reserved_concurrency": 5},
    "organization": {
        "enabled": True,
        "organization_id": "o-abcdefghij",
        "deployment_targets": ["r-abcd"],
        "athena": {"export_bucket": "cur-bucket"},
    },
}


class Account:
    """The simulated account and the canned answers; tests remove one piece each."""

    def __init__(self) -> None:
        self.tags = dict.fromkeys(doctor.tag_keys(parse_settings(SETTINGS)), "Active")
        self.exports = ["costwarden-cost"]
        self.concurrency = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}
        self.cost_explorer_error: str | None = None
        self.caller: str | None = None
        self.delegated: list[str] = []

    def clients(self, service: str, region: str | None = None) -> Any:
        client = boto3.client(service, region_name=region or "us-east-1")  # type: ignore[call-overload]
        events = client.meta.events
        if service == "ce":
            events.register("before-call.cost-explorer.ListCostAllocationTags", self._tags)
            if self.cost_explorer_error:
                events.register("before-call.cost-explorer.GetCostAndUsage", self._ce_error)
        if service == "bcm-data-exports":
            events.register("before-call.bcm-data-exports.ListExports", self._exports)
        if service == "lambda":
            events.register("before-call.lambda.GetAccountSettings", self._settings)
        if service == "organizations":  # moto does not know the StackSets principal for this call
            events.register("before-call.organizations.ListDelegatedAdministrators", self._delegated)
        if service == "sts" and self.caller:
            events.register("before-call.sts.GetCallerIdentity", self._caller)
        return client

    @staticmethod
    def _answer(parsed: dict[str, Any], status: int = 200) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://stub", status, HTTPHeaders(), None), parsed

    def _tags(self, **_: Any) -> Any:
        return self._answer(
            {"CostAllocationTags": [{"TagKey": k, "Type": "UserDefined", "Status": s} for k, s in self.tags.items()]}
        )

    def _ce_error(self, **_: Any) -> Any:
        error = {
            "Error": {"Code": self.cost_explorer_error, "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return self._answer(error, 400)

    def _exports(self, **_: Any) -> Any:
        return self._answer(
            {
                "Exports": [
                    {"ExportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{n}", "ExportName": n}
                    for n in self.exports
                ]
            }
        )

    def _settings(self, **_: Any) -> Any:
        return self._answer({"AccountLimit": self.concurrency})

    def _delegated(self, **_: Any) -> Any:
        return self._answer({"DelegatedAdministrators": [{"Id": a} for a in self.delegated]})

    def _caller(self, **_: Any) -> Any:
        return self._answer({"Account": self.caller, "Arn": "arn:aws:iam::x:user/u", "UserId": "u"})


@pytest.fixture()
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        boto3.client("secretsmanager").create_secret(
            Name="costwarden/slack-webhooks", SecretString=json.dumps(WEBHOOKS)
        )
        app = {"signing_secret": "s3cr3t", "bot_token": "xoxb-1-2-3"}
        boto3.client("secretsmanager").create_secret(Name="costwarden/slack-app", SecretString=json.dumps(app))
        sns = boto3.client("sns")
        topic = sns.create_topic(Name="Costwarden-AlertingOperatorTopicABC-1")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL)
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("lambda").create_function(
            FunctionName="Costwarden-CostMonitorFunction-ABC",
            Runtime="python3.13",
            Role=role,
            Handler="h.handler",
            Code={"ZipFile": b"x"},
        )
        boto3.client("sqs").create_queue(QueueName="Costwarden-CostMonitorFunctionDeadLetterQueue-ABC")
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="cur-bucket")
        s3.put_object(Bucket="cur-bucket", Key=f"{PREFIX}BILLING_PERIOD=2026-12/part-0.parquet", Body=b"x")
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": "costwarden_cost"})
        glue.create_table(
            DatabaseName="costwarden_cost",
            TableInput={"Name": "cost_export", "Parameters": {"projection.enabled": "true"}},
        )
        organizations = boto3.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        organizations.enable_aws_service_access(ServicePrincipal=checks.STACKSETS_PRINCIPAL)
        yield Account()


def _settings() -> Settings:
    return parse_settings(SETTINGS)


def _results(account: Account, now: datetime | None = None) -> dict[str, checks.CheckResult]:
    results, errors = doctor.run(_settings(), account.clients, now=now or datetime.now(UTC))
    assert errors == []
    return {r.check: r for r in results}


def _failed(account: Account, name: str, status: str, fix_says: str, now: datetime | None = None) -> None:
    result = _results(account, now)[name]
    assert result.status == status, result
    assert fix_says in result.fix, result.fix
    others = [r for n, r in _results(account, now).items() if n != name and r.status != "ok"]
    assert others == [], "removing one piece breaks one check only"


def test_a_complete_account_passes_every_check(account: Account) -> None:
    results = _results(account)
    assert {r.status for r in results.values()} == {"ok"}, [r for r in results.values() if r.status != "ok"]
    assert set(results) == {
        "cost_explorer",
        "cost_allocation_tags",
        "secret:costwarden/slack-webhooks",
        "operator_subscription",
        "function_runs",
        "dead_letter_queues",
        "secret:costwarden/slack-app",
        "lambda_concurrency",
        "data_export",
        "glue_table",
        "stacksets_trusted_access",
        "stacksets_delegated_admin",
    }


def test_cost_explorer_not_enabled(account: Account) -> None:
    account.cost_explorer_error = "DataUnavailableException"
    _failed(account, "cost_explorer", "missing", "Enable Cost Explorer")


def test_cost_allocation_tag_inactive(account: Account) -> None:
    account.tags["project"] = "Inactive"
    _failed(account, "cost_allocation_tags", "missing", "TagKey=project,Status=Active")


def test_webhook_secret_missing_and_misshapen_never_printed(account: Account) -> None:
    sm = boto3.client("secretsmanager")
    sm.put_secret_value(
        SecretId="costwarden/slack-webhooks", SecretString=json.dumps({"default": "http://evil.example/x"})
    )
    result = _results(account)["secret:costwarden/slack-webhooks"]
    assert result.status == "wrong" and "put-secret-value" in result.fix
    assert "evil" not in json.dumps(result.as_dict())
    sm.delete_secret(SecretId="costwarden/slack-webhooks", ForceDeleteWithoutRecovery=True)
    _failed(account, "secret:costwarden/slack-webhooks", "missing", "create-secret")


def test_slack_app_secret_misshapen(account: Account) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId="costwarden/slack-app", SecretString='{"signing_secret": "s"}'
    )
    _failed(account, "secret:costwarden/slack-app", "wrong", "put-secret-value")


def test_operator_not_subscribed(account: Account) -> None:
    sns = boto3.client("sns")
    for sub in sns.list_subscriptions()["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    _failed(account, "operator_subscription", "missing", "Redeploy")


def test_operator_pending_confirmation() -> None:
    pending = [{"Protocol": "email", "Endpoint": EMAIL, "SubscriptionArn": "PendingConfirmation"}]
    result = checks.operator_subscriptions(EMAIL, True, pending)
    assert result.status == "wrong" and "Confirm" in result.fix


def test_function_errors(account: Account) -> None:
    now = datetime.now(UTC)
    boto3.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Value": 2,
                "Timestamp": now - timedelta(hours=1),
                "Dimensions": [{"Name": "FunctionName", "Value": "Costwarden-CostMonitorFunction-ABC"}],
            }
        ],
    )
    _failed(account, "function_runs", "wrong", "aws logs tail", now)


def test_dead_letters_waiting(account: Account) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="Costwarden-CostMonitorFunctionDeadLetterQueue-ABC")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    _failed(account, "dead_letter_queues", "wrong", "purge")


def test_data_export_missing_then_stale(account: Account) -> None:
    result = _results(account, NOW + (checks.EXPORT_STALE_AFTER * 2))["data_export"]
    assert result.status == "wrong" and "list-executions" in result.fix
    account.exports = []
    _failed(account, "data_export", "missing", "export_bucket")


def test_glue_table_missing(account: Account) -> None:
    boto3.client("glue").delete_table(DatabaseName="costwarden_cost", Name="cost_export")
    _failed(account, "glue_table", "missing", "cost_source: athena")


def test_glue_table_without_projection_lacks_this_month() -> None:
    result = checks.glue_table("d", "t", {}, ["2026-10"], "2026-12")
    assert result.status == "wrong" and "MSCK REPAIR TABLE t" in result.fix


def test_trusted_access_off(account: Account) -> None:
    boto3.client("organizations").disable_aws_service_access(ServicePrincipal=checks.STACKSETS_PRINCIPAL)
    _failed(account, "stacksets_trusted_access", "missing", "enable-aws-service-access")


def test_not_a_delegated_admin(account: Account) -> None:
    account.caller = "210987654321"
    account.delegated = ["210987654321"]
    assert _results(account)["stacksets_delegated_admin"].status == "ok"
    account.delegated = []
    _failed(
        account, "stacksets_delegated_admin", "missing", "register-delegated-administrator --account-id 210987654321"
    )


def test_lambda_concurrency_quota_too_small(account: Account) -> None:
    account.concurrency = {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}
    _failed(account, "lambda_concurrency", "wrong", "L-B99A9384")


def test_exit_codes_and_envelope(account: Account) -> None:
    envelope = checks.envelope(list(_results(account).values()), [], NOW)
    assert set(envelope) == {"command", "generated_at", "complete", "errors", "results", "totals"}
    ok = [checks.CheckResult("x", "ok", "")]
    assert checks.exit_code(ok, []) == 0
    assert checks.exit_code([checks.CheckResult("x", "wrong", "", "f")], []) == 1
    assert checks.exit_code(ok, ["y: could not ask AWS"]) == 3


def test_without_credentials_no_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from costwarden.adapters import aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.client.cache_clear()
    code = main(["doctor", "--format", "json"])
    out = capsys.readouterr()
    assert code == 3
    envelope = json.loads(out.out)
    assert envelope["complete"] is False and envelope["errors"]
    assert "Traceback" not in out.err


def test_bad_settings_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COSTWARDEN_SETTINGS", '{"cost_source": "nowhere"}')
    assert main(["doctor"]) == 2
    assert "cost_source" in capsys.readouterr().err


def test_table_shows_each_fix_under_its_check_and_the_errors() -> None:
    from costwarden.cli.doctor import render_table

    results = [
        checks.CheckResult("cost_explorer", "ok", "GetCostAndUsage answered"),
        checks.trusted_access([]),
    ]
    text = render_table(checks.envelope(results, ["glue_table: could not ask AWS: denied"], NOW))
    lines = text.splitlines()
    assert lines[0].startswith("ok ") and "cost_explorer" in lines[0]
    assert lines[1].startswith("MISSING") and "stacksets_trusted_access" in lines[1]
    assert "fix: In the management account: aws organizations enable-aws-service-access" in lines[2]
    assert lines[3].startswith("ERROR") and "glue_table" in lines[3]
    assert lines[-1] == "1 ok, 1 missing, 0 wrong, 1 not run"


def test_lambda_handler_returns_the_envelope_and_exit_code(account: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    from costwarden.handlers.doctor import handler
    from costwarden.settings import load_settings

    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(SETTINGS))
    load_settings.cache_clear()
    monkeypatch.setattr(doctor, "default_clients", account.clients)
    account.tags["team"] = "Inactive"
    answer = handler({}, None)
    load_settings.cache_clear()
    assert answer["command"] == "doctor" and answer["complete"] is True
    assert answer["exit_code"] == 1 and answer["totals"]["missing"] == 1
    assert [r["check"] for r in answer["results"] if r["status"] != "ok"] == ["cost_allocation_tags"]


def test_lambda_concurrency_with_nothing_reserved_always_fits() -> None:
    """`interact.reserved_concurrency` unset (the default): even a new account's quota of 10 fits."""
    assert checks.slack_concurrency(10, 10, None).status == "ok"
    assert checks.slack_concurrency(10, 10, 5).status == "wrong"
