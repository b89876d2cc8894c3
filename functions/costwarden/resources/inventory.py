"""Inventory: every resource carrying ``expires_at`` (or ``environment=experiment``) in every configured region.

Per region, one tagging-API pass per selector (every page, 100 per page) finds the tagging-covered types — and any
type the registry does not know, which is reported, never acted on — then each known type hydrates its share in
batches; the own-listing types (ASG, EMR, EKS) list themselves. Regions and sources run concurrently; a source that
fails is recorded in ``Inventory.errors`` and everything else goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from costwarden.resources import COMPANION_TYPES, REGISTRY, Clients, Selector, type_for_arn
from costwarden.resources.base import error_text, tags_dict
from costwarden.resources.model import Resource

TAGGING_PAGE_SIZE = 100
MAX_WORKERS = 8


@dataclass(frozen=True)
class SourceError:
    """A region / source that could not be listed; the resources it would have returned are simply not acted on."""

    region: str
    source: str
    error: str


@dataclass
class Inventory:
    resources: list[Resource] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)


def _tagging_pass(
    clients: Clients, region: str, selectors: Sequence[Selector]
) -> tuple[list[Resource], list[SourceError]]:
    """One tagging-API listing per selector, then each known type hydrates its share (a failing type is reported
    alone; the others of the region go on)."""
    found: dict[str, dict[str, str]] = {}
    try:
        api = clients("resourcegroupstaggingapi", region)
        for key, value in selectors:
            tag_filter: dict[str, object] = {"Key": key}
            if value is not None:
                tag_filter["Values"] = [value]
            for page in api.get_paginator("get_resources").paginate(
                TagFilters=[tag_filter], ResourcesPerPage=TAGGING_PAGE_SIZE
            ):
                for mapping in page.get("ResourceTagMappingList", []):
                    found[mapping["ResourceARN"]] = tags_dict(mapping.get("Tags"))
    except Exception as error:  # reported; other regions and sources go on
        return [], [SourceError(region, "tagging", error_text(error))]
    by_type: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for arn, tags in found.items():
        by_type.setdefault(type_for_arn(arn), []).append((arn, tags))
    out: list[Resource] = []
    errors: list[SourceError] = []
    for type_name, items in sorted(by_type.items()):
        rtype = REGISTRY.get(type_name)
        if type_name in COMPANION_TYPES:
            continue  # acted on with its owner (an endpoint config with its endpoint), never on its own
        if rtype is None:
            out.extend(
                Resource(arn=arn, type=type_name, region=region, id=arn.rsplit("/", 1)[-1], tags=tags, state="unknown")
                for arn, tags in items
            )
        elif rtype.tagging_type is not None:
            try:
                out.extend(rtype.hydrate(clients, region, items))
            except Exception as error:  # this type is reported; the region's other types go on
                errors.append(SourceError(region, type_name, error_text(error)))
        # else: an own-listing type the tagging API happens to return here; its own listing is authoritative.
    return out, errors


def _own_listing(
    clients: Clients, region: str, type_name: str, selectors: Sequence[Selector]
) -> tuple[list[Resource], list[SourceError]]:
    try:
        return REGISTRY[type_name].list_resources(clients, region, selectors), []
    except Exception as error:  # recorded (decision, summary or log); the run goes on
        return [], [SourceError(region, type_name, error_text(error))]


def collect(clients: Clients, regions: Sequence[str], selectors: Sequence[Selector]) -> Inventory:
    """List every region and source concurrently; resources sorted for stable output."""
    own = [name for name, rtype in REGISTRY.items() if rtype.tagging_type is None]
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="reaper-inventory") as pool:
        futures = [pool.submit(_tagging_pass, clients, region, selectors) for region in regions]
        futures += [pool.submit(_own_listing, clients, region, name, selectors) for region in regions for name in own]
        return _gathered(futures)


def collect_every(clients: Clients, regions: Sequence[str], type_names: Sequence[str]) -> Inventory:
    """Every resource of ``type_names`` in every region, whatever its tags (the idle finder), through each type's
    ``list_every``; regions and types run concurrently, a failing (region, type) is recorded and the others go on."""

    def one(region: str, name: str) -> tuple[list[Resource], list[SourceError]]:
        try:
            return REGISTRY[name].list_every(clients, region), []
        except Exception as error:  # recorded (summary or log); the run goes on
            return [], [SourceError(region, name, error_text(error))]

    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="idle-inventory") as pool:
        return _gathered([pool.submit(one, region, name) for region in regions for name in type_names])


def _gathered(futures: Sequence[Future[tuple[list[Resource], list[SourceError]]]]) -> Inventory:
    """The listings' results in one inventory, in submission order: each resource once (by ARN), sorted by region,
    type and ARN, and the errors by region and source, so the output is stable whichever listing finished first."""
    inventory = Inventory()
    for future in futures:
        resources, errors = future.result()
        inventory.resources.extend(resources)
        inventory.errors.extend(errors)
    unique = {r.arn: r for r in inventory.resources}
    inventory.resources = sorted(unique.values(), key=lambda r: (r.region, r.type, r.arn))
    inventory.errors.sort(key=lambda e: (e.region, e.source))
    return inventory
