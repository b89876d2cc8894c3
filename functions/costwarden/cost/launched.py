"""Which of a team's resources were launched since an anomaly episode began (issue 22, part 1).

The tagging API names the team's resources in the driving service and region (``rootcause.team_resources``) but
has no launch time. The registry has one: every type declares its date field, and ``ResourceType.read`` reads
resources by ARN, fresh and batched (EC2: 200 ids per ``DescribeInstances``; SageMaker: one listing pass), each
``Resource`` carrying ``started_at``. So, once per alert:

* the ARNs are grouped by registry type and region (``type_for_arn``) and each group is read with one ``read``;
* ``started_at >= the episode's start`` (00:00 UTC of its first day) is *launched since*; earlier is *running since
  before the episode* (counted, not listed: they did not start the jump);
* a type the registry does not know, a read that fails, a resource whose service gives no date: *launch time not
  known*, named as the tagging API named it; never dropped, never read as "nothing launched". A failed read is one
  short line of the alert (``errors``);
* what the read no longer finds (deleted, or a job that ended, since the tagging API listed it) is counted.

Bounded: at most ``MAX_READ`` ARNs are read per alert, the rest counted as not read. 200 is one ``DescribeInstances``
filter batch (``listing.DESCRIBE_BATCH``) and two tagging-API pages per type; the alert shows five lines, and a
team with more than 200 resources of one service in one region has a fleet, which the count says.

Requests grow with batches and types, never with resources (``tests/functional/cost/test_launched.py`` counts them),
except for the own-listing types the tagging API returns (EMR clusters: ``DescribeCluster`` per cluster, the only
read that type declares); EMR clusters are few and each is the size of a fleet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from costwarden.core.alerts import truncate
from costwarden.core.text import clip
from costwarden.models.ports import Clients, error_text
from costwarden.resources import REGISTRY
from costwarden.resources.model import Resource

#: At most this many ARNs are read per alert (see the module docstring).
MAX_READ = 200
#: The failed-reads line is one short line (an error text can be a page of XML).
MAX_ERROR_CHARS = 300
#: What an alert says of a resource whose launch time could not be known.
NOT_KNOWN = "launch time not known"


@dataclass(frozen=True)
class TeamResource:
    """A resource of the team in a driving service and region: as the tagging API names it, then as read."""

    id: str
    type: str
    region: str
    owner: str
    arn: str = ""
    instance_type: str = ""
    started_at: datetime | None = None
    active: bool = True

    def line(self) -> str:
        what = f"{self.type} {self.id}" + (f" {self.instance_type}" if self.instance_type else "")
        owner = f"owner {self.owner}" if self.owner else "no owner tag"
        started = f", started {self.started_at:%Y-%m-%d %H:%M} UTC" if self.started_at is not None else ""
        return f"{what} ({self.region}), {owner}{started}" + ("" if self.active else " (no longer running)")


@dataclass(frozen=True)
class Launches:
    """The team's resources split by the episode's start ``since`` (a ``YYYY-MM-DD``)."""

    since: str
    launched: tuple[TeamResource, ...] = ()
    """Started on or after ``since``, newest first."""
    before: int = 0
    """Running, started before ``since``."""
    unknown: tuple[TeamResource, ...] = ()
    """Launch time not known: a type the registry does not know, a failed read, a service that gives no date."""
    gone: int = 0
    """Listed by the tagging API, not found by the read (deleted, or a job that ended, meanwhile)."""
    unread: int = 0
    """Beyond ``MAX_READ``: not read."""
    errors: tuple[str, ...] = ()
    """Reads that failed: ``<type> in <region>: <error>``."""
    limit: int = MAX_READ
    """The bound the read was held to."""

    @property
    def running_launched(self) -> list[TeamResource]:
        return [r for r in self.launched if r.active]


def registry_type(tagging_type: str) -> str | None:
    """The registry type a tagging-API ``service:type`` names (``elasticmapreduce:cluster`` -> ``emr:cluster``)."""
    service, _, resource = tagging_type.partition(":")
    return next((t.name for t in REGISTRY.values() if t.arn_match == (service, resource)), None)


def read_types(tagging_types: Iterable[str]) -> list[str]:
    """The registry types read for ``tagging_types`` (what the cost monitor's role may read, ``infra``)."""
    return sorted({name for t in tagging_types if (name := registry_type(t)) is not None})


def episode_start(day: str) -> datetime:
    """The episode's first day as the instant it began: 00:00 UTC (a ``YYYY-MM-DD``)."""
    return datetime.combine(date.fromisoformat(day), time(0), UTC)


def _read_group(clients: Clients, region: str, name: str, arns: Sequence[str]) -> dict[str, Resource]:
    """One registry read of one type in one region: ``{arn: resource}``, also keyed by id (own-listing types name
    the ARN from the service's answer, which may be spelt differently)."""
    found: dict[str, Resource] = {}
    for resource in REGISTRY[name].read(clients, region, arns):
        found[resource.arn] = resource
        found.setdefault(f"id:{resource.id}", resource)
    return found


def launches(clients: Clients, found: Sequence[TeamResource], since: str, *, limit: int = MAX_READ) -> Launches:
    """``found`` (the tagging API's answer, in its order) split by ``since``: one registry read per (region, type)
    for the first ``limit``; see the module docstring."""
    start = episode_start(since)
    to_read, unread = list(found[:limit]), max(0, len(found) - limit)
    groups: dict[tuple[str, str], list[TeamResource]] = {}
    unknown: list[TeamResource] = []
    for r in to_read:
        if r.type in REGISTRY:
            groups.setdefault((r.region, r.type), []).append(r)
        else:
            unknown.append(r)
    launched: list[TeamResource] = []
    before = gone = 0
    errors: list[str] = []
    for (region, name), members in groups.items():
        try:
            read = _read_group(clients, region, name, [r.arn for r in members])
        except Exception as error:  # said in the alert; the group's resources are still named, time unknown
            errors.append(f"{name} in {region}: {error_text(error)}")
            unknown += members
            continue
        for member in members:
            resource = read.get(member.arn) or read.get(f"id:{member.id}")
            if resource is None:
                gone += 1
            elif resource.started_at is None:
                unknown.append(_with(member, resource))
            elif resource.started_at >= start:
                launched.append(_with(member, resource))
            elif resource.active:
                before += 1
            else:
                gone += 1
    launched.sort(key=lambda r: (r.started_at or start, r.id), reverse=True)
    unknown.sort(key=lambda r: (r.region, r.type, r.id))
    return Launches(since, tuple(launched), before, tuple(unknown), gone, unread, tuple(errors), limit)


def _with(member: TeamResource, resource: Resource) -> TeamResource:
    details: Mapping[str, object] = resource.details
    instance_type = details.get("instance_type")
    return replace(
        member,
        instance_type=instance_type if isinstance(instance_type, str) else "",
        started_at=resource.started_at,
        active=resource.active,
    )


def lines(found: Launches, shown: int) -> list[str]:
    """The alert's lines about what is not listed as launched: counts, the unknown ones named, failed reads."""
    out: list[str] = []
    if found.before:
        out.append(f"{found.before} running since before {found.since}")
    if found.unknown:
        named = [f"{r.line()}: {NOT_KNOWN}" for r in found.unknown[:shown]]
        out += truncate(named, shown, total=len(found.unknown))
    if found.gone:
        out.append(f"{found.gone} listed by the tagging API but no longer found (ended or deleted)")
    if found.unread:
        out.append(f"{found.unread} more not read (at most {found.limit} per alert)")
    if found.errors:
        out.append(clip("Launch times could not be read: " + "; ".join(found.errors), MAX_ERROR_CHARS))
    return out
