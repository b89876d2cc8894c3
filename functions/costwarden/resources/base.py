"""The contract every resource type of the registry fulfils (Cloud Custodian's registry, cut to what we need).

A type declares:

* how it is listed — ``tagging_type`` (the Resource Groups Tagging API's ``service:type``, listed once for all
  such types per region and then hydrated in batches with the service's own describe) or ``list_resources``
  (its own paginated describe, for what the tagging API does not return: ASGs, EMR clusters, EKS node groups);
* how to read its tags, state and parent (in ``hydrate`` / ``list_resources``);
* the action for "expired" (``action_for``) and how to perform it in batches (``act``);
* the IAM it needs: ``read_permissions`` (list/describe) and ``permissions`` (destructive), each destructive
  statement with its ARN pattern and the tag-condition keys the service supports, so infra can build a role that
  refuses to act on anything not carrying ``expires_at`` or carrying the protect tag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from costwarden.models import ports
from costwarden.resources.model import Member, Resource
from costwarden.settings import TagPolicy

#: ``(tag key, required value or None for "any value")``: what the inventory asks each lister for.
type Selector = tuple[str, str | None]

#: ``clients(service, region)`` → a boto3 client. Injected everywhere; the default is ``adapters.aws.client``.
Clients = ports.Clients


@dataclass(frozen=True)
class Permission:
    """IAM actions on one resource ARN pattern, and whether the service evaluates ``aws:ResourceTag/<key>`` there.

    ``resource`` uses ``${Partition}``, ``${Region}``, ``${Account}`` placeholders (Service Authorization Reference).
    ``tag_conditions`` is False only where the action does not support resource-tag condition keys; infra then
    scopes by ARN alone and the infra test lists it as an explicit, reviewed exception.
    """

    actions: tuple[str, ...]
    resource: str
    tag_conditions: bool = True
    #: ``reap``: always granted, resource must carry ``expires_at``; ``force``: only with
    #: ``force_termination_protected``; ``mark``: only with ``missing_expiry: mark``, resource must carry
    #: ``environment=experiment``; ``limit``: only when a team has ``limits.action: stop``, resource environment
    #: mapped to the experiment pool. Every purpose also requires the protect tag to be absent.
    purpose: str = "reap"


def tags_dict(tags: Iterable[Mapping[str, Any]] | Mapping[str, str] | None) -> dict[str, str]:
    """``[{"Key": k, "Value": v}]`` (EC2, ASG, EMR, SageMaker, tagging API) or ``{k: v}`` (EKS) → ``{k: v}``."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags}


def matches(tags: Mapping[str, str], selectors: Sequence[Selector] | None) -> bool:
    """True when ``tags`` satisfy at least one selector; ``None`` selects every resource (the idle finder)."""
    if selectors is None:
        return True
    return any(key in tags and (value is None or tags[key] == value) for key, value in selectors)


def chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


#: The tag-removal action next to each tagging action (``untag``: the idle finder removes only the tags it set).
UNTAG_ACTIONS: dict[str, str] = {
    "ec2:CreateTags": "ec2:DeleteTags",
    "autoscaling:CreateOrUpdateTags": "autoscaling:DeleteTags",
    "elasticmapreduce:AddTags": "elasticmapreduce:RemoveTags",
    "eks:TagResource": "eks:UntagResource",
    "sagemaker:AddTags": "sagemaker:DeleteTags",
    "tag:TagResources": "tag:UntagResources",
}


#: Partition of a region's ARNs.
def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def iso_time(value: Any) -> str:
    """A boto3 timestamp (datetime) or text as ISO 8601 text, empty when absent: ``created_at`` of a resource."""
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


error_text = ports.error_text


class ResourceType:
    """Base of every registry entry. Subclasses set the class attributes and override what they need."""

    name: ClassVar[str]
    service: ClassVar[str]
    #: The tagging API's ``service:resource-type`` (``ResourceTypeFilters``) when it lists this type, else None.
    tagging_type: ClassVar[str | None] = None
    #: ``(arn service, arn resource-type prefix)`` to recognise this type's ARNs from the tagging API.
    arn_match: ClassVar[tuple[str, str]]
    #: The action for "expired" (what the plan shows); ``action_for`` may vary it by state.
    action: ClassVar[str]
    read_permissions: ClassVar[tuple[str, ...]]
    permissions: ClassVar[tuple[Permission, ...]]
    #: Permissions for ``missing_expiry: mark`` (tagging), also tag-conditioned where possible.
    tag_permissions: ClassVar[tuple[Permission, ...]] = ()
    #: The resource-tag condition key prefix the service evaluates for these actions (Service Authorization
    #: Reference): ``aws:ResourceTag`` for EC2, EKS, SageMaker, EMR; Auto Scaling documents its own key.
    tag_condition_prefix: ClassVar[str] = "aws:ResourceTag"
    #: Whether the type has termination protection the reaper must respect.
    has_termination_protection: ClassVar[bool] = False
    #: Whether cluster-membership tags (``aws:autoscaling:groupName``...) make this type act only via its parent.
    cluster_member: ClassVar[bool] = False
    #: Whether the action takes member instances with it (ASG, EMR cluster, EKS node group): their tags are read
    #: (``read_members``) before acting, and one protected, production or unreadable member keeps the parent.
    has_members: ClassVar[bool] = False
    #: Counted by the development limits (``teams.<team>.limits``, issue 15) and stopped by ``stop`` above them.
    limit_counted: ClassVar[bool] = False
    #: What ``stop`` needs (purpose ``limit``): granted only when some team has ``limits.action: stop``, on resources
    #: whose environment maps to the experiment pool and without the protect tag.
    limit_permissions: ClassVar[tuple[Permission, ...]] = ()

    # -- listing -------------------------------------------------------------------------------------------
    def hydrate(self, clients: Clients, region: str, found: Sequence[tuple[str, dict[str, str]]]) -> list[Resource]:
        """Tagging-API types: turn ``(arn, tags)`` into resources with state, in as few describe calls as possible."""
        raise NotImplementedError(f"{self.name} is listed with list_resources")

    def list_resources(self, clients: Clients, region: str, selectors: Sequence[Selector] | None) -> list[Resource]:
        """Own-listing types: every resource matching any selector (``(key, None)``: has the tag; ``(key, value)``:
        has it with that value), every page followed."""
        raise NotImplementedError(f"{self.name} is listed through the tagging API")

    def list_every(self, clients: Clients, region: str) -> list[Resource]:
        """Every resource of this type in ``region`` whatever its tags (the idle finder's inventory). Default: the
        tagging API (every tagged resource of ``tagging_type``, 100 per page) hydrated as usual, or the type's own
        listing with no selector. Types whose untagged resources matter (EC2 instances, EBS volumes) override it."""
        if self.tagging_type is None:
            return self.list_resources(clients, region, None)
        api = clients("resourcegroupstaggingapi", region)
        found: list[tuple[str, dict[str, str]]] = []
        for page in api.get_paginator("get_resources").paginate(
            ResourceTypeFilters=[self.tagging_type], ResourcesPerPage=100
        ):
            found += [(m["ResourceARN"], tags_dict(m.get("Tags"))) for m in page.get("ResourceTagMappingList", [])]
        own = [(arn, tags) for arn, tags in found if arn.split(":", 5)[-1].split("/", 1)[0] == self.arn_match[1]]
        return self.hydrate(clients, region, own) if own else []

    def check_protection(self, clients: Clients, region: str, resources: Sequence[Resource]) -> list[Resource]:
        """Fill in ``termination_protected`` for the candidates only (bounded by the per-run cap)."""
        return list(resources)

    def read_members(self, clients: Clients, region: str, parents: Sequence[Resource]) -> list[Resource]:
        """Cluster parents: fill in ``members`` (or ``members_error``) for the candidates only, in batches."""
        return list(parents)

    # -- acting --------------------------------------------------------------------------------------------
    def action_for(self, resource: Resource) -> tuple[str | None, str]:
        """``(action, "")`` when an expired ``resource`` can be acted on now, else ``(None, reason)``."""
        return self.action, ""

    def act(
        self, clients: Clients, region: str, resources: Sequence[Resource], policy: TagPolicy, force: bool = False
    ) -> dict[str, str | None]:
        """Perform the action on ``resources`` (batched); return ``{arn: None (done) | error text}``."""
        raise NotImplementedError

    def limit_details(self, clients: Clients, region: str, resources: Sequence[Resource]) -> list[Resource]:
        """Fill in what the limits count (``instance_type``, ``instance_count``, ``created_at``) when the listing did
        not carry it; only for the resources of teams with limits."""
        return list(resources)

    def stop(self, clients: Clients, region: str, resources: Sequence[Resource]) -> dict[str, str | None]:
        """Stop ``resources`` (over a development limit); ``{arn: None (done) | error text}``."""
        raise NotImplementedError(f"{self.name} is not counted by the development limits")

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        """Add ``tags`` (``missing_expiry: mark``); default through the tagging API, 20 ARNs per call."""
        api = clients("resourcegroupstaggingapi", region)
        result: dict[str, str | None] = {}
        for batch in chunks(list(resources), 20):
            arns = [r.arn for r in batch]
            try:
                failed = api.tag_resources(ResourceARNList=arns, Tags=tags).get("FailedResourcesMap", {})
            except Exception as error:  # recorded (decision, summary or log); the run goes on
                failed = {arn: {"ErrorMessage": error_text(error)} for arn in arns}
            for arn in arns:
                result[arn] = str(failed[arn].get("ErrorMessage", "failed")) if arn in failed else None
        return result

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        """Remove the tag ``keys`` (the idle finder's own marks); default through the tagging API, 20 ARNs a call."""
        api = clients("resourcegroupstaggingapi", region)
        result: dict[str, str | None] = {}
        for batch in chunks(list(resources), 20):
            arns = [r.arn for r in batch]
            try:
                failed = api.untag_resources(ResourceARNList=arns, TagKeys=list(keys)).get("FailedResourcesMap", {})
            except Exception as error:  # recorded (decision, summary or log); the run goes on
                failed = {arn: {"ErrorMessage": error_text(error)} for arn in arns}
            for arn in arns:
                result[arn] = str(failed[arn].get("ErrorMessage", "failed")) if arn in failed else None
        return result

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        """The exact command an owner runs to extend the expiry: set tag ``key`` (``settings.tags.expires_key``)."""
        return (
            f"aws resourcegroupstaggingapi tag-resources --region {resource.region} "
            f"--resource-arn-list {resource.arn} --tags {key}={value}"
        )


#: DescribeInstances accepts up to 200 values per filter (and answers up to 1,000 per page).
INSTANCE_FILTER_BATCH = 200
#: States in which a member still exists (and would be taken down with its parent).
LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")


def describe_instance_tags(
    clients: Clients, region: str, filters: Sequence[Sequence[Mapping[str, Any]]]
) -> tuple[dict[str, dict[str, str]], dict[int, str]]:
    """Live instances matching each filter set (one paginated ``DescribeInstances`` per set): ``{id: tags}``, and the
    error text of every set that failed (by index) — the callers turn those into "members could not be read"."""
    ec2 = clients("ec2", region)
    found: dict[str, dict[str, str]] = {}
    errors: dict[int, str] = {}
    for index, filter_set in enumerate(filters):
        live = {"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)}
        try:
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=[*filter_set, live], PaginationConfig={"PageSize": 1000}
            )
            for page in pages:
                for reservation in page.get("Reservations", []):
                    for instance in reservation.get("Instances", []):
                        found[instance["InstanceId"]] = tags_dict(instance.get("Tags"))
        except Exception as error:  # recorded on the parents: they are then not acted on
            errors[index] = error_text(error)
    return found, errors


def members_by_ids(
    clients: Clients, region: str, parents: Sequence[Resource], ids_of: Callable[[Resource], Sequence[str]]
) -> list[Resource]:
    """Parents whose member instance ids are known: their tags read 200 ids per ``DescribeInstances``."""
    wanted = {r.arn: list(ids_of(r)) for r in parents}
    everything = sorted({i for ids in wanted.values() for i in ids})
    batches = list(chunks(everything, INSTANCE_FILTER_BATCH))
    found, errors = describe_instance_tags(
        clients, region, [[{"Name": "instance-id", "Values": list(batch)}] for batch in batches]
    )
    failed = {i: errors[n] for n, batch in enumerate(batches) if n in errors for i in batch}
    out = []
    for parent in parents:
        problems = sorted({failed[i] for i in wanted[parent.arn] if i in failed})
        if problems:
            out.append(replace(parent, members_error="; ".join(problems)))
            continue
        members = tuple(Member(i, found[i]) for i in wanted[parent.arn] if i in found)
        out.append(replace(parent, members=members))
    return out


def each_result(resources: Sequence[Resource], call: Callable[[Resource], object]) -> dict[str, str | None]:
    """Run a per-resource action, recording each resource's own error (one failure never stops the others)."""
    result: dict[str, str | None] = {}
    for resource in resources:
        try:
            call(resource)
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            result[resource.arn] = error_text(error)
        else:
            result[resource.arn] = None
    return result
