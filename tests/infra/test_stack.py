"""The stack's promises, asserted on the synthesized template: encryption, SSL-only, DLQs, alarms, no secrets."""

from __future__ import annotations

import json
from typing import Any

from costwarden.settings import Settings

from infra import constants
from tests.infra.conftest import Synth, actions_of

NOTIFIER = "Notifier/Function/Function"


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def test_both_topics_are_encrypted_with_their_own_rotating_customer_managed_key(synth: Synth) -> None:
    keys = []
    for topic in ("Alerting/AlertTopic", "Alerting/OperatorTopic"):
        key_ref = synth.resource(topic)["Properties"]["KmsMasterKeyId"]
        key_id = key_ref["Fn::GetAtt"][0]
        key = synth.template["Resources"][key_id]
        assert key["Type"] == "AWS::KMS::Key"
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["DeletionPolicy"] == "Retain"
        keys.append(key_id)
    assert keys[0] != keys[1]


def test_both_topics_deny_publishing_without_tls(synth: Synth) -> None:
    for topic in ("Alerting/AlertTopic", "Alerting/OperatorTopic"):
        topic_id = synth.logical_id(topic)
        policies = [
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in synth.resources("AWS::SNS::TopicPolicy").values()
            if _ref(topic_id) in p["Properties"]["Topics"]
        ]
        assert len(policies) == 1
        denies = [s for s in policies[0] if s["Effect"] == "Deny"]
        assert denies == [
            {
                "Action": "sns:Publish",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                "Effect": "Deny",
                "Principal": "*",
                "Resource": _ref(topic_id),
                "Sid": "AllowPublishThroughSSLOnly",
            }
        ]


def test_cloudwatch_alarms_may_use_the_operator_key_and_topic(synth: Synth) -> None:
    key = synth.resource("Alerting/OperatorKey")["Properties"]["KeyPolicy"]["Statement"]
    cw = [s for s in key if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cw) == 1
    assert set(cw[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cw[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_state_table_is_on_demand_with_pitr_ttl_string_keys_and_retained(synth: Synth) -> None:
    table = synth.resource("State/Table")
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {"pk": "S", "sk": "S"}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_notifier_runtime_architecture_logging_tracing(synth: Synth) -> None:
    props = synth.resource(NOTIFIER)["Properties"]
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == constants.LAMBDA_RUNTIME.name
    assert props["Runtime"].startswith("python3.") and int(props["Runtime"].split(".")[1]) >= 12
    assert props["Handler"] == "costwarden.handlers.notifier.handler"
    assert props["Timeout"] == 60
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    assert props["LoggingConfig"]["LogGroup"] == _ref(synth.logical_id("Notifier/Function/Logs"))
    assert props["TracingConfig"] == {"Mode": "Active"}
    log_group = synth.resource("Notifier/Function/Logs")["Properties"]
    assert log_group["RetentionInDays"] == 30


def test_notifier_environment_follows_the_handler_contract(synth: Synth) -> None:
    env = synth.resource(NOTIFIER)["Properties"]["Environment"]["Variables"]
    assert env["ALERT_TOPIC_ARN"] == _ref(synth.logical_id("Alerting/AlertTopic"))
    assert env["STATE_TABLE_NAME"] == _ref(synth.logical_id("State/Table"))
    assert env["POWERTOOLS_SERVICE_NAME"] == "notifier"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Costwarden"
    assert env["LOG_LEVEL"] == "INFO"
    assert env["SLACK_SECRET_NAME"] == Settings().notifier.slack_secret_name
    # The settings travel as the validated JSON the function re-reads (defaults are left out).
    assert Settings.model_validate(json.loads(env["COSTWARDEN_SETTINGS"])) == Settings()


def test_notifier_has_a_dead_letter_queue_for_failed_invocations(synth: Synth) -> None:
    props = synth.resource(NOTIFIER)["Properties"]
    dlq_id = synth.logical_id("Notifier/Function/DeadLetterQueue")
    assert props["DeadLetterConfig"] == {"TargetArn": _arn(dlq_id)}
    queue = synth.template["Resources"][dlq_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 86_400


def test_notifier_subscribes_to_the_alert_topic_with_a_dead_letter_queue(synth: Synth) -> None:
    subscriptions = [
        s["Properties"]
        for s in synth.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "lambda"
    ]
    assert len(subscriptions) == 1
    sub = subscriptions[0]
    dlq_id = synth.logical_id("Notifier/SubscriptionDeadLetterQueue")
    assert sub["TopicArn"] == _ref(synth.logical_id("Alerting/AlertTopic"))
    assert sub["Endpoint"] == _arn(synth.logical_id(NOTIFIER))
    assert sub["RedrivePolicy"] == {"deadLetterTargetArn": _arn(dlq_id)}
    assert synth.template["Resources"][dlq_id]["Properties"]["SqsManagedSseEnabled"] is True
    # SNS (from the alert topic only) may send to the queue; nobody may use it without TLS.
    policy = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources("AWS::SQS::QueuePolicy").values()
        if _ref(dlq_id) in p["Properties"]["Queues"]
    )
    allow = [s for s in policy if s["Effect"] == "Allow"]
    assert allow == [
        {
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": _ref(synth.logical_id("Alerting/AlertTopic"))}},
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Resource": _arn(dlq_id),
        }
    ]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in policy)


def _alarm_targets(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    """(metric name, dimension value's logical id) → alarm properties."""
    alarms = {}
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        value = props["Dimensions"][0]["Value"]
        target = value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]
        alarms[(props["MetricName"], target)] = props
    return alarms


def test_alarms_watch_errors_throttles_and_both_dead_letter_queues(synth: Synth) -> None:
    alarms = _alarm_targets(synth)
    function_id = synth.logical_id(NOTIFIER)
    expected = {
        ("Errors", function_id),
        ("Throttles", function_id),
        ("ApproximateNumberOfMessagesVisible", synth.logical_id("Notifier/Function/DeadLetterQueue")),
        ("ApproximateNumberOfMessagesVisible", synth.logical_id("Notifier/SubscriptionDeadLetterQueue")),
    }
    assert expected <= set(alarms)
    for key in expected:
        assert alarms[key]["Threshold"] == 1
        assert alarms[key]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarms[key]["TreatMissingData"] == "notBreaching"


def test_every_alarm_goes_to_the_operator_topic_never_through_the_alert_topic(synth: Synth) -> None:
    operator = _ref(synth.logical_id("Alerting/OperatorTopic"))
    alert = _ref(synth.logical_id("Alerting/AlertTopic"))
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    assert alarms
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [operator]
        assert alert not in alarm["Properties"].get("OKActions", [])


def test_no_webhook_url_or_secret_value_anywhere_in_the_template(synth: Synth) -> None:
    text = json.dumps(synth.template)
    assert "hooks.slack.com" not in text
    assert "https://" not in text
    assert "http://" not in text
    assert not synth.resources("AWS::SecretsManager::Secret")


def test_the_secret_is_referenced_by_name_and_only_read(synth: Synth) -> None:
    name = Settings().notifier.slack_secret_name
    role_id = synth.logical_id("Notifier/Function/Role")
    statements = [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if _ref(role_id) in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    secret_statements = [s for s in statements if any("secretsmanager:" in a for a in actions_of(s))]
    assert len(secret_statements) == 1
    assert set(actions_of(secret_statements[0])) == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    }
    resource = json.dumps(secret_statements[0]["Resource"])
    assert f":secret:{name}-??????" in resource


def test_notifier_role_is_least_privilege(synth: Synth) -> None:
    role = synth.resource("Notifier/Function/Role")["Properties"]
    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    role_id = synth.logical_id("Notifier/Function/Role")
    statements = [
        s
        for p in synth.resources("AWS::IAM::Policy").values()
        if _ref(role_id) in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in actions_of(s)}
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    assert "sns:Publish" not in actions  # the notifier consumes alerts; it never produces them
    logs = next(s for s in statements if "logs:PutLogEvents" in actions_of(s))
    assert logs["Resource"] == _arn(synth.logical_id("Notifier/Function/Logs"))
    wildcard = [s for s in statements if s["Resource"] == "*"]
    assert [sorted(actions_of(s)) for s in wildcard] == [["xray:PutTelemetryRecords", "xray:PutTraceSegments"]]


def test_stack_tags_from_settings_are_on_every_taggable_resource(synth: Synth) -> None:
    wanted = Settings().stack_tags
    for logical_id in (
        synth.logical_id(NOTIFIER),
        synth.logical_id("State/Table"),
        synth.logical_id("Alerting/AlertTopic"),
    ):
        tags = {t["Key"]: t["Value"] for t in synth.template["Resources"][logical_id]["Properties"]["Tags"]}
        assert tags == wanted


def test_no_operator_email_subscription_without_an_address(synth: Synth) -> None:
    assert not [s for s in synth.resources("AWS::SNS::Subscription").values() if s["Properties"]["Protocol"] == "email"]


def test_dashboard_shows_every_function_its_dead_letters_and_all_alarms(synth: Synth) -> None:
    dashboard = synth.resource("Dashboard/Dashboard")  # the operations dashboard (the cost monitor has its own)
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "notifier: invocations, errors, throttles" in body
    assert "notifier: duration (p50, p95, max) vs timeout" in body
    assert synth.logical_id(NOTIFIER) in body
    assert synth.logical_id("Notifier/Function/DeadLetterQueue") in body
    for alarm_id in synth.resources("AWS::CloudWatch::Alarm"):
        assert alarm_id in body
