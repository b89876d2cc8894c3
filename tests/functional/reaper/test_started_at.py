"""``Resource.started_at`` from each type's declared date field, and the Slack extension cap anchored on it for every
type (issue 19, bug: it was anchored on the launch for EC2 instances only, on the first sighting for the others).

Each resource is created under a patched moto clock (moto stamps ``LaunchTime``, ``CreateTime``, ``CreationTime``,
``createdAt`` with its module's ``utcnow``), ten days before the run; the team key is not the default one.
Capacity reservations are not simulated by moto: their fixture is botocore's ``Stubber`` with the API reference's
response shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters.state import MemoryStateStore
from costwarden.core.keys import FIRST_SEEN_PK
from costwarden.interact.actions import Context, extend
from costwarden.models.expiry import format_expiry
from costwarden.resources import REGISTRY
from costwarden.settings import parse_settings

from tests.functional.reaper.reaper_env import ACCOUNT, NOW, Account

OLD = NOW - timedelta(days=10)
SETTINGS = parse_settings({"tags": {"team_key": "owner"}, "reaper": {"max_lifetime_days": 14}})
TAGS = {"owner": "nlp", "environment": "experiment", "expires_at": "2026-12-11"}
SELECTOR = [("owner", "nlp")]
#: The moto module clocks a resource's launch or creation time is read from.
CLOCKS = (
    "moto.ec2.models.instances.utcnow",
    "moto.ec2.models.elastic_block_store.utcnow",
    "moto.emr.models.utcnow",
    "moto.eks.models.utcnow",
    "moto.sagemaker.models.utcnow",
)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """moto's clocks stopped at ``moment`` (naive UTC, as moto's ``utcnow`` returns)."""
    with ExitStack() as stack:
        for target in CLOCKS:
            stack.enter_context(patch(target, lambda: moment.astimezone(UTC).replace(tzinfo=None)))
        yield


def _instance(account: Account) -> str:
    (instance_id,) = account.instances(1, "us-east-1", False, **TAGS)
    return f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{instance_id}"


def _volume(account: Account) -> str:
    return f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{account.volume(**TAGS)}"


def _asg(account: Account) -> str:
    from moto.autoscaling.models import autoscaling_backends

    account.asg("old-asg", size=1, **TAGS)
    group = autoscaling_backends[ACCOUNT]["us-east-1"].autoscaling_groups["old-asg"]
    group.created_time = OLD.isoformat()  # moto stamps groups with datetime.now(), not its utcnow
    return str(group.arn)


def _emr(account: Account) -> str:
    cluster_id = account.emr("old-emr", "us-east-1", False, **TAGS)
    return str(account.client("emr").describe_cluster(ClusterId=cluster_id)["Cluster"]["ClusterArn"])


def _nodegroup(account: Account) -> str:
    return account.nodegroup("old-cluster", "old-group", **TAGS)


def _notebook(account: Account) -> str:
    account.notebook("old-notebook", **TAGS)
    sm = account.client("sagemaker")
    return str(sm.describe_notebook_instance(NotebookInstanceName="old-notebook")["NotebookInstanceArn"])


def _endpoint(account: Account) -> str:
    account.endpoint("old-endpoint", "us-east-1", None, **TAGS)
    return str(account.client("sagemaker").describe_endpoint(EndpointName="old-endpoint")["EndpointArn"])


def _training(account: Account) -> str:
    account.job("training", "old-training", **TAGS)
    sm = account.client("sagemaker")
    return str(sm.describe_training_job(TrainingJobName="old-training")["TrainingJobArn"])


def _processing(account: Account) -> str:
    account.job("processing", "old-processing", **TAGS)
    sm = account.client("sagemaker")
    return str(sm.describe_processing_job(ProcessingJobName="old-processing")["ProcessingJobArn"])


#: A moto fixture per registered type (an old resource of that type); capacity reservations: ``Stubbed`` below.
FIXTURES: dict[str, Callable[[Account], str]] = {
    "ec2:instance": _instance,
    "ec2:volume": _volume,
    "autoscaling:group": _asg,
    "emr:cluster": _emr,
    "eks:nodegroup": _nodegroup,
    "sagemaker:notebook-instance": _notebook,
    "sagemaker:endpoint": _endpoint,
    "sagemaker:training-job": _training,
    "sagemaker:processing-job": _processing,
}
STUBBED = ("ec2:capacity-reservation",)
#: Every type extends through its own tagging call; moto's EKS TagResource tags clusters only (the node group is
#: extended on a Stubber in tests/functional/interact/test_extend_every_type.py).
EXTENDABLE = sorted(name for name in FIXTURES if name != "eks:nodegroup")


def _listed(account: Account, type_name: str, arn: str) -> Any:
    rtype = REGISTRY[type_name]
    if rtype.tagging_type is None:
        found = rtype.list_resources(account.clients, "us-east-1", SELECTOR)
    else:
        found = rtype.read(account.clients, "us-east-1", [arn])
    return {r.arn: r for r in found}[arn]


def test_every_registered_type_has_a_fixture() -> None:
    assert sorted([*FIXTURES, *STUBBED]) == sorted(REGISTRY)


@pytest.mark.parametrize("type_name", sorted(FIXTURES))
def test_started_at_is_read_from_the_types_own_date_field(account: Account, type_name: str) -> None:
    with clock_at(OLD):
        arn = FIXTURES[type_name](account)
    resource = _listed(account, type_name, arn)
    assert resource.started_at is not None and resource.started_at.tzinfo is not None
    assert abs(resource.started_at - OLD) < timedelta(seconds=1)


class _NoReply:
    def respond(self, response_url: str, message: dict[str, Any]) -> None:  # pragma: no cover - never called
        raise AssertionError("extend itself never answers Slack")


def _context(clients: Any, state: MemoryStateStore) -> Context:
    return Context(settings=SETTINGS, state=state, clients=clients, responder=_NoReply(), groups=None, now=NOW)


@pytest.mark.parametrize("type_name", EXTENDABLE)
def test_extension_is_capped_from_the_resources_own_start(account: Account, type_name: str) -> None:
    with clock_at(OLD):
        arn = FIXTURES[type_name](account)
    state = MemoryStateStore()
    outcome = extend(_context(account.clients, state), arn, 7)
    cap = format_expiry(OLD + timedelta(days=14))  # not NOW + 14 days (the first sighting)
    assert outcome.status == "done", outcome.reply
    assert outcome.before == {"expires_at": "2026-12-11"} and outcome.after == {"expires_at": cap}
    assert f"capped: reaper.max_lifetime_days is 14 (from launch {format_expiry(OLD)})" in outcome.reply
    assert _listed(account, type_name, arn).tags["expires_at"] == cap
    assert state.get(FIRST_SEEN_PK, arn) is None  # the launch is known: no first sighting is recorded


# -- capacity reservations (not simulated by moto) -----------------------------------------------------------------
RESERVATION_ID = "cr-0123456789abcdef0"
RESERVATION_ARN = f"arn:aws:ec2:us-east-1:{ACCOUNT}:capacity-reservation/{RESERVATION_ID}"


def _reservation(**extra: Any) -> dict[str, Any]:
    return {
        "CapacityReservationId": RESERVATION_ID,
        "CapacityReservationArn": RESERVATION_ARN,
        "OwnerId": ACCOUNT,
        "InstanceType": "p4d.24xlarge",
        "AvailabilityZone": "us-east-1a",
        "TotalInstanceCount": 2,
        "AvailableInstanceCount": 2,
        "State": "active",
        "CreateDate": OLD,
        "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
        **extra,
    }


class Stubbed:
    """A stubbed EC2 and tagging-API client pair answering what the API reference documents."""

    def __init__(self) -> None:
        self.ec2 = boto3.client("ec2", region_name="us-east-1")
        self.tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1")
        self.ec2_stub, self.tagging_stub = Stubber(self.ec2), Stubber(self.tagging)

    def clients(self, service: str, region: str) -> Any:
        return {"ec2": self.ec2, "resourcegroupstaggingapi": self.tagging}[service]

    def describe(self, *reservations: dict[str, Any]) -> None:
        expected = {"Filters": [{"Name": "state", "Values": ["active", "pending"]}], "MaxResults": 1000}
        self.ec2_stub.add_response(
            "describe_capacity_reservations", {"CapacityReservations": list(reservations)}, expected
        )

    def __enter__(self) -> Stubbed:
        self.ec2_stub.activate()
        self.tagging_stub.activate()
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        if error is None:  # every stubbed call was made (an assertion already failing is reported as it is)
            self.ec2_stub.assert_no_pending_responses()
            self.tagging_stub.assert_no_pending_responses()
        self.ec2_stub.deactivate()
        self.tagging_stub.deactivate()


def test_capacity_reservation_hydrated_with_its_create_date_and_state() -> None:
    other = _reservation(CapacityReservationId="cr-0000000000000000f", CapacityReservationArn="arn:other")
    with Stubbed() as stub:
        stub.describe(_reservation(), other)
        [resource] = REGISTRY["ec2:capacity-reservation"].hydrate(stub.clients, "us-east-1", [(RESERVATION_ARN, {})])
    assert resource.arn == RESERVATION_ARN and resource.id == RESERVATION_ID and resource.active
    assert resource.started_at == OLD and resource.tags["owner"] == "nlp"
    assert REGISTRY["ec2:capacity-reservation"].action_for(resource) == ("cancel", "")


def test_capacity_reservations_cancelled_one_by_one_each_failing_alone() -> None:
    rtype = REGISTRY["ec2:capacity-reservation"]
    second = RESERVATION_ARN.replace(RESERVATION_ID, "cr-1")
    with Stubbed() as stub:
        stub.describe(_reservation(), _reservation(CapacityReservationId="cr-1", CapacityReservationArn=second))
        resources = rtype.hydrate(stub.clients, "us-east-1", [(RESERVATION_ARN, {}), (second, {})])
        assert [r.id for r in sorted(resources, key=lambda r: r.id)] == ["cr-0123456789abcdef0", "cr-1"]
        stub.ec2_stub.add_client_error(
            "cancel_capacity_reservation",
            "InvalidCapacityReservationId.NotFound",
            "gone",
            expected_params={"CapacityReservationId": RESERVATION_ID},
        )
        stub.ec2_stub.add_response("cancel_capacity_reservation", {"Return": True}, {"CapacityReservationId": "cr-1"})
        result = rtype.act(stub.clients, "us-east-1", sorted(resources, key=lambda r: r.id), SETTINGS.tags)
    assert result == {RESERVATION_ARN: "InvalidCapacityReservationId.NotFound: gone", second: None}


def test_capacity_reservation_extension_is_capped_from_its_create_date() -> None:
    cap = format_expiry(OLD + timedelta(days=14))
    state = MemoryStateStore()
    with Stubbed() as stub:
        stub.tagging_stub.add_response(
            "get_resources",
            {"ResourceTagMappingList": [{"ResourceARN": RESERVATION_ARN, "Tags": _reservation()["Tags"]}]},
            {"ResourceARNList": [RESERVATION_ARN]},
        )
        stub.describe(_reservation())
        stub.ec2_stub.add_response(
            "create_tags",
            {},
            {"Resources": [RESERVATION_ID], "Tags": [{"Key": "expires_at", "Value": cap}]},
        )
        outcome = extend(_context(stub.clients, state), RESERVATION_ARN, 7)
    assert outcome.status == "done" and outcome.after == {"expires_at": cap}
    assert f"from launch {format_expiry(OLD)}" in outcome.reply
    assert state.get(FIRST_SEEN_PK, RESERVATION_ARN) is None
