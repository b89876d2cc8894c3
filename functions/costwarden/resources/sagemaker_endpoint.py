"""SageMaker endpoints: delete, with the endpoint config — when the config itself carries the expiry tag
(``settings.tags.expires_key``) and not the protect tag (the same condition the IAM role enforces on
``DeleteEndpointConfig``; a config may be shared or kept on purpose, and configs cost nothing). Otherwise the config
is kept and the decision says so."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from costwarden.resources.base import Clients, Permission, ResourceType, error_text, tags_dict
from costwarden.resources.listing import Listing
from costwarden.resources.model import Resource, is_protected
from costwarden.settings import TagPolicy

ENDPOINT_ARN = "arn:${Partition}:sagemaker:${Region}:${Account}:endpoint/*"
CONFIG_ARN = "arn:${Partition}:sagemaker:${Region}:${Account}:endpoint-config/*"
TRANSITIONAL = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"})


class SageMakerEndpoint(ResourceType):
    name = "sagemaker:endpoint"
    service = "sagemaker"
    tagging_type = "sagemaker:endpoint"
    arn_match = ("sagemaker", "endpoint")
    listing = Listing("list_endpoints", "Endpoints", "EndpointName", "CreationTime", tags_field="")
    action = "delete"
    read_permissions = ("sagemaker:ListEndpoints", "sagemaker:DescribeEndpoint", "sagemaker:ListTags")
    permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:DeleteEndpoint",), ENDPOINT_ARN),
        Permission(("sagemaker:DeleteEndpointConfig",), CONFIG_ARN),
    )
    tag_permissions: ClassVar[tuple[Permission, ...]] = (
        Permission(("sagemaker:AddTags",), ENDPOINT_ARN, purpose="mark"),
    )

    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        name, status = item["EndpointName"], item.get("EndpointStatus", "")
        return self.new(arn, region, name, tags, status, active=status != "Deleting")

    def action_for(self, resource: Resource) -> tuple[str | None, str]:
        if resource.state in TRANSITIONAL:
            return None, f"endpoint is {resource.state}; acted on once it settles (a later run)"
        return self.action, ""

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        sm = clients("sagemaker", region)
        result: dict[str, str | None] = {}
        for resource in resources:
            try:
                described = sm.describe_endpoint(EndpointName=resource.id)
                config = described["EndpointConfigName"]
                sm.delete_endpoint(EndpointName=resource.id)
            except Exception as error:  # recorded (decision, summary or log); the run goes on
                result[resource.arn] = error_text(error)
                continue
            result[resource.arn] = None
            try:
                config_arn = resource.arn.replace(":endpoint/", ":endpoint-config/").rsplit("/", 1)[0] + f"/{config}"
                tags = tags_dict(sm.list_tags(ResourceArn=config_arn).get("Tags"))
                if policy.expires_key in tags and not is_protected(tags, policy):
                    sm.delete_endpoint_config(EndpointConfigName=config)
            except Exception:  # noqa: S110 - the endpoint (the cost) is gone; a kept config costs nothing
                pass
        return result
