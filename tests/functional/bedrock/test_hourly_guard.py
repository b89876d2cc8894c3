"""The Bedrock guard's hourly run on moto (CloudWatch, DynamoDB, SNS/SQS, IAM) with Bedrock's and the Price List's
calls answered by botocore's Stubber in their real shapes (moto has neither ``ListInferenceProfiles`` nor
``GetProducts``): a team crossing its daily budget is alerted within the run, once; with ``auto`` the deny lands on
exactly that team's profile role and Lift takes exactly it off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from costwarden.adapters.state import DynamoStateStore
from costwarden.bedrock.tokens import METRICS, TokenKind
from costwarden.interact import bedrock_limit
from costwarden.services.bedrock import run_on_aws
from costwarden.services.reaper import sns_publisher
from costwarden.settings import Settings
from moto import mock_aws

from tests.support.aws import alert_queue, create_state_table
from tests.support.bedrock import REGION, TRUST, profile_arn, profile_summary, settings_doc, sonnet_products

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
NLP, VISION = profile_arn("nlp-chat"), profile_arn("vision-caption")


@dataclass
class Account:
    state: DynamoStateStore
    topic: str
    queue: str
    sqs: Any
    iam: Any
    cloudwatch: Any
    bedrock: Any
    pricing: Any

    def clients(self, service: str, region: str) -> Any:
        stubbed = {"bedrock": self.bedrock.client, "pricing": self.pricing.client}
        return stubbed.get(service) or boto3.client(service, region_name=region)

    def tokens(self, model_id: str, **counts: float) -> None:
        data = [
            {
                "MetricName": METRICS[TokenKind(kind)],
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                "Value": value,
                "Timestamp": NOW.replace(hour=10),
            }
            for kind, value in counts.items()
        ]
        self.cloudwatch.put_metric_data(Namespace="AWS/Bedrock", MetricData=data)

    def expect_profiles(self, *, tags: bool) -> None:
        self.bedrock.add_response(
            "list_inference_profiles",
            {"inferenceProfileSummaries": [profile_summary("nlp-chat"), profile_summary("vision-caption")]},
            {"typeEquals": "APPLICATION", "maxResults": 1000},
        )
        if tags:
            for arn, team in ((NLP, "nlp"), (VISION, "vision")):
                self.bedrock.add_response(
                    "list_tags_for_resource", {"tags": [{"key": "team", "value": team}]}, {"resourceARN": arn}
                )

    def run(self, settings: Settings) -> Any:
        return run_on_aws(
            settings, clients=self.clients, state=self.state, publish=sns_publisher(self.topic), now=NOW, region=REGION
        )

    def alerts(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(json.loads(m["Body"])["Message"]) for m in messages]

    def role_policies(self, role: str) -> list[str]:
        return list(self.iam.list_role_policies(RoleName=role)["PolicyNames"])


@pytest.fixture
def account() -> Iterator[Account]:
    with mock_aws():
        create_state_table(boto3.client("dynamodb", region_name=REGION))
        topic, queue = alert_queue(boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION))
        iam = boto3.client("iam", region_name=REGION)
        for role, team in (("nlp-bedrock", "nlp"), ("nlp-borrowed", "vision"), ("vision-bedrock", "vision")):
            iam.create_role(
                RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=[{"Key": "team", "Value": team}]
            )
        bedrock = Stubber(boto3.client("bedrock", region_name=REGION))
        pricing = Stubber(boto3.client("pricing", region_name="us-east-1"))
        pricing.add_response(
            "get_products",
            {"PriceList": sonnet_products(), "FormatVersion": "aws_v1"},
            {"ServiceCode": "AmazonBedrock", "Filters": ANY, "MaxResults": 100},
        )
        with bedrock, pricing:
            yield Account(
                DynamoStateStore("costwarden-state"),
                topic,
                queue,
                boto3.client("sqs", region_name=REGION),
                iam,
                boto3.client("cloudwatch", region_name=REGION),
                bedrock,
                pricing,
            )
            bedrock.assert_no_pending_responses()


def test_a_team_past_its_daily_budget_is_alerted_within_the_run_once(account: Account) -> None:
    settings = Settings.model_validate(settings_doc())
    account.tokens(NLP, input=10_000_000, output=5_000_000)  # $30 + $75 = $105 of a $100 day
    account.tokens(VISION, input=1_000)
    account.expect_profiles(tags=True)
    run, reads = account.run(settings)
    assert run.errors == []
    [alert] = account.alerts()
    assert (alert["kind"], alert["team"], alert["severity"]) == ("bedrock", "nlp", "warning")
    assert alert["title"] == "Bedrock spend of nlp today: $105 (105% of the daily budget)"
    assert alert["details"]["parts_usd"] == {"input": 30.0, "output": 75.0}
    assert alert["details"]["profiles"] == [NLP]
    assert alert["dedup_key"] == "bedrock#nlp#2026-12-07#warning"
    assert [(t["team"], t["severity"]) for t in run.summary()["teams"]] == [("nlp", "warning"), ("vision", None)]
    assert reads.requests == {
        "ListInferenceProfiles": 1,
        "ListTagsForResource": 2,
        "ListMetrics": 1,
        "GetMetricData": 1,
        "GetProducts": 1,
    }
    account.expect_profiles(tags=False)  # the next hour: tags and prices come from the state table
    again, reads = account.run(settings)
    assert account.alerts() == [] and [t["outcome"] for t in again.summary()["teams"]] == ["already_sent", ""]
    assert reads.requests == {"ListInferenceProfiles": 1, "ListMetrics": 1, "GetMetricData": 1, "GetProducts": 0}


def test_auto_denies_exactly_the_teams_profile_role_and_lift_takes_exactly_it_off(account: Account) -> None:
    roles = {"nlp": ["nlp-bedrock", "nlp-borrowed"], "vision": ["vision-bedrock"]}
    settings = Settings.model_validate(settings_doc(hard_limit={"nlp": "auto", "vision": "auto"}, roles=roles))
    account.iam.put_role_policy(
        RoleName="nlp-bedrock",
        PolicyName="operators-own",
        PolicyDocument=json.dumps(
            TRUST | {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )
    account.tokens(NLP, input=10_000_000, output=12_000_000)  # $210 of a $100 day: critical
    account.expect_profiles(tags=True)
    run, _reads = account.run(settings)
    [alert] = account.alerts()
    assert (alert["team"], alert["severity"], alert["details"]["hard_limit"]) == ("nlp", "critical", "auto")
    assert run.summary()["teams"][0]["deny"].startswith("done: Bedrock denied for nlp: 1 profile(s) on 1 role(s)")
    assert "nlp-borrowed: its team tag names 'vision', not 'nlp'" in run.summary()["teams"][0]["deny"]
    document = account.iam.get_role_policy(RoleName="nlp-bedrock", PolicyName="costwarden-bedrock-deny")
    assert document["PolicyDocument"]["Statement"] == [
        {
            "Sid": "CostwardenBedrockDeny",
            "Effect": "Deny",
            "Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
            "Resource": [NLP],
        }
    ]
    assert sorted(account.role_policies("nlp-bedrock")) == ["costwarden-bedrock-deny", "operators-own"]
    assert account.role_policies("nlp-borrowed") == [] and account.role_policies("vision-bedrock") == []
    denier = bedrock_limit.Denier(settings, account.state, account.clients, "U0ONCALL1", NOW)
    status, reply, _record = denier.lift("nlp")
    assert (status, reply) == ("done", "Bedrock deny lifted for nlp: removed from 1 role(s)")
    assert account.role_policies("nlp-bedrock") == ["operators-own"]
    audit = account.state.query(f"audit#{NOW:%Y-%m-%d}")
    assert sorted((a["id"], a["status"]) for a in audit) == [
        ("nlp-bedrock", "done"),
        ("nlp-bedrock", "done"),
        ("nlp-borrowed", "skipped"),
    ]
