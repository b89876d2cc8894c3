"""The Organizations adapter against moto: ListAccounts pages, account tags, the OU walk, selection on top."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from costwarden.adapters.organizations import Organization
from costwarden.org.accounts import select_accounts, wants_ou_paths
from costwarden.settings import OrganizationSettings
from moto import mock_aws


@pytest.fixture
def org() -> Iterator[dict[str, Any]]:
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        research = client.create_organizational_unit(ParentId=root, Name="research")["OrganizationalUnit"]["Id"]
        sandbox = client.create_organizational_unit(ParentId=research, Name="sandbox")["OrganizationalUnit"]["Id"]
        ids = {}
        for name, parent, tags in [
            ("prod", root, [{"Key": "owner-team", "Value": "platform"}]),
            ("vision", research, [{"Key": "owner-team", "Value": "vision"}]),
            ("sandbox", sandbox, []),
        ]:
            status = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
            account_id = status["AccountId"]
            ids[name] = account_id
            client.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent)
            if tags:
                client.tag_resource(ResourceId=account_id, Tags=tags)
        yield {"client": client, "root": root, "research": research, "sandbox": sandbox, "ids": ids}


def test_accounts_carry_tags_and_ou_paths(org: dict[str, Any]) -> None:
    reader = Organization(org["client"])
    accounts = {a.name: a for a in reader.accounts(with_ou_paths=True)}
    assert accounts["vision"].team("owner-team") == "vision"
    assert accounts["sandbox"].team("owner-team") is None
    assert accounts["sandbox"].parents == (org["sandbox"], org["research"], org["root"])
    assert accounts["prod"].parents == (org["root"],)


def test_ou_filtering_and_exclusion_on_the_real_listing(org: dict[str, Any]) -> None:
    settings = OrganizationSettings(accounts=(org["research"],), exclude_accounts=(org["ids"]["vision"],))
    assert wants_ou_paths(settings)
    reader = Organization(org["client"])
    selection = select_accounts(reader.accounts(with_ou_paths=True), settings)
    assert [a.name for a in selection.selected] == ["sandbox"]
    assert selection.skipped[org["ids"]["vision"]].startswith("excluded")
    assert selection.skipped[org["ids"]["prod"]] == "not in organization.accounts"


def test_requests_grow_with_pages_and_accounts_not_resources(org: dict[str, Any]) -> None:
    reader = Organization(org["client"])
    accounts = reader.accounts()
    # 4 accounts (3 + the management account) fit one ListAccounts page; one ListTagsForResource each.
    assert len(accounts) == 4
    assert reader.requests == 1 + 4


def test_a_refused_tag_read_is_recorded_and_the_listing_goes_on(org: dict[str, Any]) -> None:
    client = org["client"]

    def deny(request: Any, **_: Any) -> None:
        if request.headers.get("X-Amz-Target", b"").endswith(b"ListTagsForResource") and org["ids"]["vision"] in (
            request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        ):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "ListTagsForResource")

    client.meta.events.register("before-send.organizations.ListTagsForResource", deny)
    reader = Organization(client)
    accounts = {a.name: a for a in reader.accounts()}
    assert accounts["vision"].tags == {}
    assert accounts["prod"].team("owner-team") == "platform"
    assert "AccessDenied" in reader.tag_errors[org["ids"]["vision"]]


def test_the_athena_cost_source_attributes_by_the_configured_account_tag(org: dict[str, Any]) -> None:
    """``organization.enabled`` + ``cost_source: athena``: the source carries account -> team (non-default key)."""
    from costwarden.services.athena_cost import AthenaCostSource, cost_source
    from costwarden.settings import parse_settings

    base = {"cost_source": "athena", "tags": {"team_key": "owner-team"}}
    enabled = parse_settings(
        {**base, "organization": {"enabled": True, "organization_id": "o-abcdefghij", "deployment_targets": ["r-ab12"]}}
    )
    source = cost_source(enabled, Organization(org["client"]))
    assert isinstance(source, AthenaCostSource) and source.account_teams is not None
    assert source.account_teams[org["ids"]["vision"]] == "vision"
    assert source.account_teams[org["ids"]["sandbox"]] is None
    assert source.attribution_note is None

    single = cost_source(parse_settings(base), Organization(org["client"]))
    assert isinstance(single, AthenaCostSource) and single.account_teams is None  # single account: no attribution


def test_an_unreadable_organization_leaves_untagged_spend_untagged_and_says_why() -> None:
    from botocore.stub import Stubber
    from costwarden.services.athena_cost import account_teams
    from costwarden.settings import parse_settings

    client = boto3.client(
        "organizations", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stub:  # the deployment account is not the management account: access denied
        stub.add_client_error(
            "list_accounts",
            service_error_code="AccessDeniedException",
            service_message="You don't have permissions to access this resource.",
            http_status_code=400,
        )
        teams, note = account_teams(parse_settings({}), Organization(client))
    assert teams == {}
    assert note is not None and "untagged spend stays untagged" in note
