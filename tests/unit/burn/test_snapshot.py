"""The inventory snapshot (``burn.snapshot``): what runs now seeds the unit records, never over a newer event; what
the listing no longer shows stops counting once a previous snapshot saw it; the same snapshot twice changes
nothing; an unpriced type is counted as unpriced, never as zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from costwarden.burn.events import Change
from costwarden.burn.rate import Units
from costwarden.burn.snapshot import SNAPSHOT_PK, Snapshot, previous_of, scopes_of, seed, snapshot_of
from costwarden.models.idle_ports import Quote
from costwarden.resources.model import Resource
from costwarden.settings import Settings

ACCOUNT = "123456789012"
REGION = "us-east-1"
SCOPE = (ACCOUNT, REGION)
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
P4D = 32.7726
QUOTES = {("ec2", "p4d.24xlarge", REGION, "on-demand", ""): Quote(P4D, "Hrs")}
POLICY = Settings().tags


def instance(
    iid: str, itype: str = "p4d.24xlarge", state: str = "running", region: str = REGION, **tags: str
) -> Resource:
    arn = f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{iid}"
    details = {"instance_type": itype, "lifecycle": tags.pop("lifecycle", "")}
    return Resource(arn=arn, type="ec2:instance", region=region, id=iid, tags=tags, state=state, details=details)


def take(*resources: Resource, at: datetime = T1, failed: tuple[str, ...] = ()) -> Snapshot:
    return snapshot_of(resources, at=at, listed=[SCOPE], failed_regions=failed)


def apply(units: Units, snap: Snapshot, previous: dict[tuple[str, str], datetime] | None = None) -> list[str]:
    done = seed(units, snap, previous=previous or {}, quotes=QUOTES, policy=POLICY)
    return sorted(done.started + done.stopped + done.gone)


def event(action: str, at: datetime, iid: str = "i-1", itype: str = "", count: int = 1, **tags: str) -> Change:
    return Change(
        event_id=f"e-{action}-{at.isoformat()}",
        time=at,
        region=REGION,
        account=ACCOUNT,
        action=action,  # type: ignore[arg-type]
        resource_type="ec2:instance",
        resources=(f"ec2:{iid}",),
        service="ec2" if itype else "",
        instance_type=itype,
        count=count,
        tags=tags,
    )


def test_instances_running_before_any_event_count_at_their_price_for_their_tagged_team() -> None:
    units = Units()
    apply(units, take(instance("i-1", team="nlp"), instance("i-2", team="nlp"), instance("i-3")))
    assert units.rate("nlp").usd_per_hour == pytest.approx(2 * P4D)
    assert units.rate("unowned").usd_per_hour == pytest.approx(P4D)
    assert units.units["ec2:i-1"].launched_at == T1 and units.units["ec2:i-1"].instance_type == "p4d.24xlarge"
    assert units.changed == {"ec2:i-1", "ec2:i-2", "ec2:i-3"}


def test_an_unpriced_type_is_counted_as_unpriced_never_as_zero() -> None:
    units = Units()
    apply(units, take(instance("i-1", "x9.unknown", team="nlp"), instance("i-2", team="nlp")))
    rate = units.rate("nlp")
    assert rate.usd_per_hour == pytest.approx(P4D) and rate.unpriced == 1
    assert units.units["ec2:i-1"].usd_each is None and "price unknown" in units.units["ec2:i-1"].note


def test_a_spot_instance_is_priced_in_the_spot_market_not_on_demand() -> None:
    snap = take(instance("i-1", team="nlp", lifecycle="spot"))
    assert snap.price_keys() == [("ec2", "p4d.24xlarge", REGION, "spot", "")]
    units = Units()
    apply(units, snap)  # QUOTES has no spot price: unknown, not the on-demand one
    assert units.rate("nlp").unpriced == 1 and units.rate("nlp").usd_per_hour == 0.0


def test_a_stop_seen_after_the_snapshot_wins_whichever_is_applied_first() -> None:
    later = Units()
    apply(later, take(instance("i-1", team="nlp")))
    later.apply(event("stop", T1 + timedelta(minutes=5)), team="", quote=None)
    earlier = Units()
    earlier.apply(event("stop", T1 + timedelta(minutes=5)), team="", quote=None)
    assert apply(earlier, take(instance("i-1", team="nlp"))) == []
    for units in (later, earlier):
        assert units.rate("nlp").usd_per_hour == 0.0 and not units.units["ec2:i-1"].running


def test_a_launch_seen_after_the_snapshot_keeps_its_type_count_and_team() -> None:
    units = Units()
    units.apply(
        event("start", T1 + timedelta(minutes=1), itype="g5.xlarge", team="cv"), team="cv", quote=Quote(1.0, "Hrs")
    )
    assert apply(units, take(instance("i-1", team="nlp"))) == []
    unit = units.units["ec2:i-1"]
    assert (unit.instance_type, unit.team, unit.usd_each) == ("g5.xlarge", "cv", 1.0)
    assert units.rate("cv").usd_per_hour == 1.0 and units.rate("nlp").usd_per_hour == 0.0


def test_an_older_stop_loses_to_the_snapshot_that_saw_it_running() -> None:
    units = Units()
    units.apply(event("stop", T0), team="", quote=None)
    assert apply(units, take(instance("i-1", team="nlp"))) == ["ec2:i-1"]
    assert units.rate("nlp").usd_per_hour == pytest.approx(P4D)


def test_the_same_snapshot_twice_changes_nothing() -> None:
    units = Units()
    snap = take(instance("i-1", team="nlp"), instance("i-2", "t3.micro", state="stopped"))
    apply(units, snap)
    before = {key: unit.to_item() for key, unit in units.units.items()}
    units.changed.clear()
    assert apply(units, snap, {SCOPE: T1}) == []
    assert units.changed == set() and {k: u.to_item() for k, u in units.units.items()} == before


def test_an_instance_listed_stopped_stops_counting() -> None:
    units = Units()
    apply(units, take(instance("i-1", team="nlp"), at=T0))
    assert apply(units, take(instance("i-1", state="stopped", team="nlp")), {SCOPE: T0}) == ["ec2:i-1"]
    assert units.units["ec2:i-1"].stopped_at == T1 and units.rate("nlp").usd_per_hour == 0.0


def test_gone_from_the_listing_stops_only_what_the_previous_snapshot_could_have_listed() -> None:
    units = Units()
    apply(units, take(instance("i-old", team="nlp"), at=T0))
    units.apply(event("start", T0 + timedelta(minutes=50), "i-new", "p4d.24xlarge", team="nlp"), team="nlp", quote=None)
    assert apply(units, take(), {SCOPE: T0}) == ["ec2:i-old"]  # i-new: launched after T0, maybe not listed yet
    assert not units.units["ec2:i-old"].running and units.units["ec2:i-new"].running


def test_the_first_snapshot_and_a_failed_region_stop_nothing() -> None:
    units = Units()
    units.apply(event("start", T0 - timedelta(days=1), itype="p4d.24xlarge"), team="nlp", quote=Quote(P4D, "Hrs"))
    assert apply(units, take()) == []  # no previous snapshot of the region: listing lag cannot be told apart
    failed = take(failed=(REGION,))
    assert failed.scopes == frozenset()
    assert apply(units, failed, {SCOPE: T0}) == []  # a failed read is never "nothing runs there"
    assert units.rate("nlp").usd_per_hour == pytest.approx(P4D)
    assert apply(units, take(), {SCOPE: T0}) == ["ec2:i-1"]


def test_group_members_are_counted_through_their_group_never_alone() -> None:
    member = instance("i-1", team="nlp", **{"aws:autoscaling:groupName": "fleet"})
    other = Resource(arn="arn:aws:sagemaker:x", type="sagemaker:endpoint", region=REGION, id="e", tags={})
    assert take(member, other).seen == ()


def test_the_snapshot_records_its_time_and_damaged_records_read_as_absent() -> None:
    items = [{"pk": SNAPSHOT_PK, "sk": sk, "at": at} for _, sk, at in [(0, "1#r", "nope"), (0, "2#r", "2026-12-07")]]
    items.append({"pk": SNAPSHOT_PK, "sk": f"{ACCOUNT}#{REGION}", "at": T0.isoformat()})
    assert previous_of(items) == {SCOPE: T0}  # a bad time and a naive time: that scope stops nothing this time
    assert scopes_of(take()) == [(SNAPSHOT_PK, f"{ACCOUNT}#{REGION}", {"at": T1.isoformat()})]
