"""The contract every resource type of the registry fulfils (Cloud Custodian's registry, cut to what we need).

A type declares:

* how it is listed — a ``Listing`` (Cloud Custodian's ``enum_spec``: the paginated call, its result key, the id and
  date fields, a per-item describe if the service has no batch one) read by the base's one ``hydrate`` and
  ``list_resources``; with ``tagging_type`` (the Resource Groups Tagging API's ``service:type``) the tagging API
  finds the resources once for all such types per region and the listing hydrates them in batches, without it the
  listing is the type's own (what the tagging API does not return: ASGs, EMR clusters, EKS node groups);
* how to turn one listed item into a ``Resource`` (``resource``: state, parent, details) — ``started_at`` is set
  by the base from the declared ``date_field``, the same way for every type;
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
from costwarden.resources.listing import DESCRIBE_BATCH, Listing, aware_time, items_at, tag_filter, value_at
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


def tagging_batches(
    resources: Sequence[Resource], call: Callable[[list[str]], dict[str, Any]]
) -> dict[str, str | None]:
    """``call`` (a tagging-API ``tag_resources`` / ``untag_resources``) per 20 ARNs, its batch limit:
    ``{arn: None (done) | error text}``; an ARN in ``FailedResourcesMap`` fails alone, a call that raises its batch."""
    result: dict[str, str | None] = {}
    for batch in chunks(list(resources), 20):
        arns = [r.arn for r in batch]
        try:
            failed = call(arns).get("FailedResourcesMap", {})
        except Exception as error:  # recorded (decision, summary or log); the run goes on
            failed = {arn: {"ErrorMessage": error_text(error)} for arn in arns}
        for arn in arns:
            result[arn] = str(failed[arn].get("ErrorMessage", "failed")) if arn in failed else None
    return result


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


error_text = ports.error_text


def error_code(error: BaseException) -> str:
    """The AWS error code of ``error`` (botocore's ``ClientError`` shape), "" for any other exception."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and isinstance(response.get("Error"), dict):
        return str(response["Error"].get("Code", ""))
    return ""


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

    #: How the type is listed (see ``Listing``); ``started_at`` comes from its ``date_field``.
    listing: ClassVar[Listing]

    # -- listing -------------------------------------------------------------------------------------------
    def resource(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        """One listed (or described) item as a ``Resource``: the type's own reading of state, parent and details."""
        raise NotImplementedError

    def new(
        self, arn: str, region: str, ident: str, tags: dict[str, str], state: str, *, active: bool = True, **more: Any
    ) -> Resource:
        """A ``Resource`` of this type (``key`` defaults to the id): what each type's ``resource`` returns."""
        more.setdefault("key", ident)
        return Resource(arn=arn, type=self.name, region=region, id=ident, tags=tags, state=state, active=active, **more)

    def _build(self, item: Mapping[str, Any], region: str, arn: str, tags: dict[str, str]) -> Resource:
        started = aware_time(value_at(item, self.listing.date_field))
        return replace(self.resource(item, region, arn, tags), started_at=started)

    def _items(self, client: Any, call: str, key: str, request: Mapping[str, Any], page_size: int | None) -> list[Any]:
        config = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}
        pages = client.get_paginator(call).paginate(**request, **config)
        return [item for page in pages for item in items_at(page, key)]

    def _described(self, client: Any, item: Any, parent: str | None) -> Mapping[str, Any] | None:
        """The item as described (its declared ``Describe``), or None when it vanished after being listed."""
        describe, within = self.listing.describe, self.listing.within
        if describe is None:
            return dict(item)
        params = {describe.param: item if isinstance(item, str) else item[self.listing.id_field]}
        if within is not None and parent is not None:
            params[within.param] = parent
        try:
            described = dict(getattr(client, describe.call)(**params)[describe.key])
        except Exception as error:  # a vanished resource is skipped; anything else fails the listing (reported)
            if error_code(error) in describe.gone:
                return None
            raise
        if within is not None and parent is not None:
            described.setdefault(within.param, parent)  # the parent's id, when the description omits it
        return described

    def hydrate(self, clients: Clients, region: str, found: Sequence[tuple[str, dict[str, str]]]) -> list[Resource]:
        """Tagging-API types: turn ``(arn, tags)`` into resources with state, in as few describe calls as possible
        (an id that is no longer listed — deleted meanwhile — is simply absent)."""
        if self.tagging_type is None:
            raise NotImplementedError(f"{self.name} is listed with list_resources")
        listing = self.listing
        client = clients(self.service, region)
        wanted = {arn.rsplit("/", 1)[-1]: (arn, tags) for arn, tags in found}
        requests: list[dict[str, Any]] = [dict(listing.params)]
        if listing.id_filter:
            requests = [
                {**dict(listing.params), "Filters": [{"Name": listing.id_filter, "Values": list(batch)}]}
                for batch in chunks(sorted(wanted), DESCRIBE_BATCH)
            ]
        out: list[Resource] = []
        for request in requests:
            for item in self._items(client, listing.call, listing.key, request, listing.page_size):
                if (ident := str(item[listing.id_field])) in wanted:
                    arn, tags = wanted[ident]
                    own = tags_dict(item.get(listing.tags_field)) if listing.tags_field else tags
                    out.append(self._build(item, region, arn, own))
        return out

    def read(self, clients: Clients, region: str, arns: Sequence[str]) -> list[Resource]:
        """The resources named by ``arns``, read fresh. Tagging-API types: tags from the tagging API (100 ARNs a
        call: listings without tags, like SageMaker's, then still carry them), then hydrated; own-listing types:
        each described by its declared ``Describe`` (``ids_of`` names it). What a Slack button acts on is
        authorized on what the resource is now, not on what a message said."""
        if self.tagging_type is None:
            return self._read_described(clients, region, arns)
        api = clients("resourcegroupstaggingapi", region)
        found: dict[str, dict[str, str]] = {arn: {} for arn in arns}
        for batch in chunks(list(arns), 100):
            for page in api.get_paginator("get_resources").paginate(ResourceARNList=list(batch)):
                for mapping in page.get("ResourceTagMappingList", []):
                    found[mapping["ResourceARN"]] = tags_dict(mapping.get("Tags"))
        return self.hydrate(clients, region, list(found.items()))

    def ids_of(self, arn: str) -> tuple[str, str | None]:
        """Own-listing types: ``(id, parent id or None)`` of the resource ``arn`` names (what ``read`` describes)."""
        raise NotImplementedError(f"{self.name} cannot be read by ARN")

    def _read_described(self, clients: Clients, region: str, arns: Sequence[str]) -> list[Resource]:
        """Own-listing types with a declared ``Describe``: one describe per ARN (a vanished one is absent)."""
        client = clients(self.service, region)
        out: list[Resource] = []
        for arn in arns:
            ident, parent = self.ids_of(arn)
            item = self._described(client, ident, parent)
            if item is not None:
                tags = tags_dict(item.get(self.listing.tags_field))
                out.append(self._build(item, region, str(item.get(self.listing.arn_field) or arn), tags))
        return out

    def list_resources(self, clients: Clients, region: str, selectors: Sequence[Selector] | None) -> list[Resource]:
        """Own-listing types: every resource matching any selector (``(key, None)``: has the tag; ``(key, value)``:
        has it with that value; None: every resource), every page followed, through the declared listing."""
        if self.tagging_type is not None:
            raise NotImplementedError(f"{self.name} is listed through the tagging API")
        listing = self.listing
        client = clients(self.service, region)
        requests: list[dict[str, Any]] = [dict(listing.params)]
        if listing.tag_filters and selectors is not None:
            base_filters = list(dict(listing.params).get("Filters", []))
            requests = [{**dict(listing.params), "Filters": [*base_filters, tag_filter(*s)]} for s in selectors]
        parents: list[str | None] = [None]
        if listing.within is not None:
            parents = [str(p) for p in self._items(client, listing.within.call, listing.within.key, {}, None)]
        seen: dict[str, Resource] = {}
        for parent in parents:
            for request in requests:
                nested = (
                    request if parent is None or listing.within is None else {**request, listing.within.param: parent}
                )
                for listed in self._items(client, listing.call, listing.key, nested, listing.page_size):
                    item = self._described(client, listed, parent)
                    if item is None:
                        continue
                    tags = tags_dict(item.get(listing.tags_field))
                    if matches(tags, selectors):
                        resource = self._build(item, region, str(item.get(listing.arn_field, "")), tags)
                        seen[resource.arn] = resource
        return list(seen.values())

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
        """Fill in what the limits count (``instance_type``, ``instance_count``) when the listing did not carry it;
        only for the resources of teams with limits."""
        return list(resources)

    def stop(self, clients: Clients, region: str, resources: Sequence[Resource]) -> dict[str, str | None]:
        """Stop ``resources`` (over a development limit); ``{arn: None (done) | error text}``."""
        raise NotImplementedError(f"{self.name} is not counted by the development limits")

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        """Add ``tags`` (``missing_expiry: mark``); default through the tagging API, 20 ARNs per call."""
        api = clients("resourcegroupstaggingapi", region)
        return tagging_batches(resources, lambda arns: api.tag_resources(ResourceARNList=arns, Tags=tags))

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        """Remove the tag ``keys`` (the idle finder's own marks); default through the tagging API, 20 ARNs a call."""
        api = clients("resourcegroupstaggingapi", region)
        return tagging_batches(resources, lambda arns: api.untag_resources(ResourceARNList=arns, TagKeys=list(keys)))

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


class Ec2Tagged(ResourceType):
    """Types of the EC2 API (instances, volumes, capacity reservations): tags written and removed with
    ``CreateTags`` / ``DeleteTags`` on the resource id, one call per resource (each fails only itself)."""

    def tag(
        self, clients: Clients, region: str, resources: Sequence[Resource], tags: dict[str, str]
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        return each_result(
            resources,
            lambda r: ec2.create_tags(Resources=[r.id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]),
        )

    def untag(
        self, clients: Clients, region: str, resources: Sequence[Resource], keys: Sequence[str]
    ) -> dict[str, str | None]:
        ec2 = clients("ec2", region)
        return each_result(resources, lambda r: ec2.delete_tags(Resources=[r.id], Tags=[{"Key": k} for k in keys]))

    def extend_command(self, resource: Resource, key: str, value: str) -> str:
        return (
            f"aws ec2 create-tags --region {resource.region} --resources {resource.id} --tags Key={key},Value={value}"
        )
