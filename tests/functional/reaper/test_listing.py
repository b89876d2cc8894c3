"""The declared listing's per-item describe (issue 20): a resource deleted between the listing and its describe is
skipped and the others are kept; any other describe error still fails that type's listing for the region."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.resources import REGISTRY
from costwarden.resources.inventory import collect

from tests.functional.reaper.reaper_env import Account

TAGS = {"squad": "nlp", "expires_at": "2026-12-01"}


def _delete_before_describe(account: Account, cluster: str, name: str) -> None:
    """The node group ``name`` is deleted after ``ListNodegroups`` answered and before its ``DescribeNodegroup``."""
    eks = account.client("eks")

    def vanish(params: dict[str, Any], **_: Any) -> None:
        if params.get("nodegroupName") == name:
            account.session.client("eks", region_name="us-east-1").delete_nodegroup(
                clusterName=cluster, nodegroupName=name
            )

    eks.meta.events.register("provide-client-params.eks.DescribeNodegroup", vanish)


def test_a_node_group_deleted_between_list_and_describe_is_skipped_and_the_others_kept(account: Account) -> None:
    for name in ("a-keep", "b-gone", "c-keep"):
        account.nodegroup("ml", name, **TAGS)
    _delete_before_describe(account, "ml", "b-gone")
    inventory = collect(account.clients, ["us-east-1"], [("squad", None)])
    groups = sorted(r.id for r in inventory.resources if r.type == "eks:nodegroup")
    assert groups == ["a-keep", "c-keep"]
    assert [e for e in inventory.errors if e.source == "eks:nodegroup"] == []


def _stubbed_eks(error_code: str) -> tuple[Any, Stubber]:
    eks = boto3.client("eks", region_name="us-east-1")
    stub = Stubber(eks)
    stub.add_response("list_clusters", {"clusters": ["ml"]}, {})
    stub.add_response("list_nodegroups", {"nodegroups": ["a", "b"]}, {"clusterName": "ml"})
    stub.add_client_error(
        "describe_nodegroup", error_code, "no", expected_params={"clusterName": "ml", "nodegroupName": "a"}
    )
    return eks, stub


def test_a_vanished_group_answered_by_the_api_reference_shape_is_skipped() -> None:
    eks, stub = _stubbed_eks("ResourceNotFoundException")
    arn = "arn:aws:eks:us-east-1:123456789012:nodegroup/ml/b/1"
    group = {"nodegroupName": "b", "clusterName": "ml", "nodegroupArn": arn, "status": "ACTIVE", "tags": TAGS}
    stub.add_response("describe_nodegroup", {"nodegroup": group}, {"clusterName": "ml", "nodegroupName": "b"})
    with stub:
        found = REGISTRY["eks:nodegroup"].list_resources(lambda _s, _r: eks, "us-east-1", [("squad", None)])
    assert [(r.id, r.key, r.details["cluster"]) for r in found] == [("b", "ml/b", "ml")]


def test_any_other_describe_error_fails_the_listing_it_is_reported_not_half_read() -> None:
    eks, stub = _stubbed_eks("AccessDeniedException")
    with stub, pytest.raises(Exception, match="AccessDenied"):
        REGISTRY["eks:nodegroup"].list_resources(lambda _s, _r: eks, "us-east-1", [("squad", None)])


def test_every_type_declares_where_its_describe_says_a_resource_is_gone() -> None:
    described = [t for t in REGISTRY.values() if t.listing.describe is not None]
    assert sorted(t.name for t in described) == ["eks:nodegroup", "emr:cluster"]
    assert all(t.listing.describe is not None and t.listing.describe.gone for t in described)
