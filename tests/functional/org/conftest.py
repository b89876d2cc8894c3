"""A simulated organization on moto: Organizations, STS (assumed credentials map to the member account), EC2 in
each member account, SNS -> SQS to read alerts, and Step Functions executing the real state machine definition
(``infra/fanout_asl.py``) whose Lambda tasks run the real handlers in-process (moto would start Docker), with its
Maps' ItemReader and ResultWriter on the results bucket (``RESULTS_BUCKET``)."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from costwarden.adapters import aws
from costwarden.handlers.context import LocalContext
from costwarden.settings import load_settings
from moto import mock_aws
from moto.awslambda.models import LambdaBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3 as ResultWriterS3,
)

from tests.support.aws import create_state_table as create_table
from tests.support.moto_ce import answer_cost_allocation_tags

MANAGEMENT = "123456789012"
RESULTS_BUCKET = "costwarden-org-results"
EXPIRED = "2020-01-01"
HANDLERS = {
    "org-accounts": "costwarden.handlers.org_accounts",
    "org-item": "costwarden.handlers.org_item",
    "org-aggregate": "costwarden.handlers.org_aggregate",
    "org-summary": "costwarden.handlers.org_summary",
}


def _in_process_invoke(
    self: LambdaBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    """moto's Lambda invoke, answered by the real handler module in this process (errors as Lambda reports them)."""
    import importlib

    name = function_name.rsplit(":", 1)[-1].rsplit("function/", 1)[-1]
    module = importlib.import_module(HANDLERS[name])
    event = json.loads(body) if body else {}
    try:
        out = module.handler(event, LocalContext(function_name=name))
    except Exception as error:  # what Lambda does with an unhandled exception: FunctionError + errorType
        response_headers["x-amz-function-error"] = "Unhandled"
        out = {"errorType": type(error).__name__, "errorMessage": str(error)}
    return json.dumps(out, default=str).encode()


@dataclass
class Org:
    accounts: dict[str, str] = field(default_factory=dict)
    """name -> account id."""
    topic_arn: str = ""
    queue_url: str = ""
    functions: dict[str, str] = field(default_factory=dict)
    denied_accounts: set[str] = field(default_factory=set)

    def member(self, account_id: str, service: str, region: str = "us-east-1") -> Any:
        creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/setup", RoleSessionName="setup"
        )["Credentials"]
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def instances(self, account_id: str, n: int = 1, region: str = "us-east-1", **tags: str) -> list[str]:
        ec2 = self.member(account_id, "ec2", region)
        image = ec2.describe_images()["Images"][0]["ImageId"]
        spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        out = ec2.run_instances(ImageId=image, MinCount=n, MaxCount=n, TagSpecifications=spec)
        return [i["InstanceId"] for i in out["Instances"]]

    def old_volume(self, account: str, size: int, **tags: str) -> str:
        """An unattached volume created 30 days ago (moto stamps ``now``; the backend's field is moved back)."""
        from moto.ec2.models import ec2_backends

        ec2 = self.member(account, "ec2")
        spec = [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
        volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=size, VolumeType="gp3", TagSpecifications=spec)
        backend = ec2_backends[account]["us-east-1"]
        backend.volumes[volume["VolumeId"]].create_time = datetime.now(UTC) - timedelta(days=30)
        return str(volume["VolumeId"])

    def state_of(self, account_id: str, instance_id: str, region: str = "us-east-1") -> str:
        ec2 = self.member(account_id, "ec2", region)
        return str(
            ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["State"]["Name"]
        )

    def alerts(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name="us-east-1")
        out: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(json.loads(message["Body"])["Message"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def deny_assume_role(self) -> None:
        """AssumeRole into ``denied_accounts`` answers AccessDenied, as when the StackSet has not reached them."""

        def refuse(request: Any, **_: Any) -> AWSResponse | None:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            if "Action=AssumeRole" in body and any(f"iam%3A%3A{a}%3A" in body for a in self.denied_accounts):
                xml = (
                    b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to "
                    b"perform sts:AssumeRole</Message></Error></ErrorResponse>"
                )
                return AWSResponse(request.url, 403, {}, _Raw(xml))  # type: ignore[arg-type]
            return None

        aws.client("sts").meta.events.register("before-send.sts.AssumeRole", refuse)

    def run(self, state_machine_arn: str, timeout: float = 120) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        # A name per execution: moto names unnamed ones "None", so a second run of one machine would collide.
        execution = sfn.start_execution(stateMachineArn=state_machine_arn, name=uuid.uuid4().hex, input="{}")[
            "executionArn"
        ]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                assert described["status"] == "SUCCEEDED", described
                return json.loads(described["output"])  # type: ignore[no-any-return]
            time.sleep(0.2)
        raise AssertionError("state machine still running")


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _result_writer_put_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """moto 5.2.5's ResultWriter writes a manifest that lists no result file (its ``TODO``) and drops the children's
    outputs. This writes what Step Functions documents ("ResultWriter", Step Functions developer guide): under
    ``<Prefix>/<map run id>/`` a ``manifest.json`` whose ``ResultFiles.SUCCEEDED`` names ``SUCCEEDED_0.json``, an
    array of execution records with each child's ``Output`` as a JSON string; the Map's output is the manifest's
    location. (Every child of this machine succeeds: an item's failure is caught inside it.)"""
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    parameters = env.stack.pop()
    results = env.stack.pop()
    s3: Any = boto_client_for(region=resource_runtime_part.region, service="s3", state_credentials=state_credentials)
    map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn
    prefix = parameters["Prefix"].rstrip("/") + "/" if parameters["Prefix"] else ""
    folder = prefix + map_run_arn.split(":")[-1] + "/"
    records = [
        {
            "ExecutionArn": f"{map_run_arn}:{n}",
            "Name": str(n),
            "Output": json.dumps(result),
            "OutputDetails": {"Included": True},
            "Status": "SUCCEEDED",
        }
        for n, result in enumerate(results)
    ]
    body = json.dumps(records).encode()
    s3.put_object(Bucket=parameters["Bucket"], Key=folder + "SUCCEEDED_0.json", Body=body)
    manifest = {
        "DestinationBucket": parameters["Bucket"],
        "MapRunArn": map_run_arn,
        "ResultFiles": {
            "FAILED": [],
            "PENDING": [],
            "SUCCEEDED": [{"Key": folder + "SUCCEEDED_0.json", "Size": len(body)}],
        },
    }
    s3.put_object(Bucket=parameters["Bucket"], Key=folder + "manifest.json", Body=json.dumps(manifest).encode())
    env.stack.append(
        {
            "MapRunArn": map_run_arn,
            "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": folder + "manifest.json"},
        }
    )


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[Org]:
    monkeypatch.setattr(LambdaBackend, "invoke", _in_process_invoke)
    answer_cost_allocation_tags(monkeypatch)
    monkeypatch.setattr(ResultWriterS3, "_handle_put_object", staticmethod(_result_writer_put_object))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        world = Org()
        organizations = boto3.client("organizations", region_name="us-east-1")
        organizations.create_organization(FeatureSet="ALL")
        for name, team in [("vision", "vision"), ("shared", None), ("legal", "legal"), ("acquired", "acq")]:
            account_id = organizations.create_account(Email=f"{name}@example.com", AccountName=name)[
                "CreateAccountStatus"
            ]["AccountId"]
            world.accounts[name] = account_id
            if team:
                organizations.tag_resource(ResourceId=account_id, Tags=[{"Key": "team", "Value": team}])
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=RESULTS_BUCKET)
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        world.topic_arn = sns.create_topic(Name="alerts")["TopicArn"]
        world.queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=world.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=world.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        monkeypatch.setenv("ALERT_TOPIC_ARN", world.topic_arn)
        monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", region_name="us-east-1")
        for name in HANDLERS:
            world.functions[name] = lam.create_function(
                FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler", Code={"ZipFile": _zip()}
            )["FunctionArn"]
        yield world


def create_state_table(monkeypatch: pytest.MonkeyPatch, name: str = "costwarden-state") -> None:
    """The deployment's state table (de-duplication, price cache), named to the handlers."""
    create_table(boto3.client("dynamodb", region_name="us-east-1"), name)
    monkeypatch.setenv("STATE_TABLE_NAME", name)


def configure(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> None:
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(settings))
    load_settings.cache_clear()


StateMachineFactory = Callable[[str, bool], str]


def state_machine(world: Org, capability: str = "reaper", two_phase: bool = True, max_concurrency: int = 4) -> str:
    from infra.fanout_asl import definition

    body = definition(
        capability=capability,
        accounts_arn=world.functions["org-accounts"],
        item_arn=world.functions["org-item"],
        aggregate_arn=world.functions["org-aggregate"],
        summary_arn=world.functions["org-summary"],
        max_concurrency=max_concurrency,
        two_phase=two_phase,
        results_bucket=RESULTS_BUCKET,
    )
    # moto's ASL parser accepts only STANDARD Distributed Map children; the deployed EXPRESS plan children are
    # validated by asl-validator (tests/infra/test_deploy_rules.py). Every state and path is otherwise as deployed.
    text = json.dumps(body).replace('"ExecutionType": "EXPRESS"', '"ExecutionType": "STANDARD"')
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return str(
        sfn.create_state_machine(
            name=f"costwarden-{capability}", definition=text, roleArn=f"arn:aws:iam::{MANAGEMENT}:role/sfn"
        )["stateMachineArn"]
    )
