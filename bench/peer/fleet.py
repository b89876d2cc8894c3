"""The simulated fleets both tools read, built on the moto server through the dev venv's boto3.

Every instance is recorded with its *category* (why it is in the fleet) in a ``Manifest``: the semantic diff
(``bench/peer/diff.py``) explains each tool's findings from it, so a difference is named, not guessed.

**Reaper fleet** (one region, ``N`` instances, ``reaper_mix``): expired (``expires_at`` a week ago), future (in 30
days), missing (no ``expires_at``; half of them ``environment=experiment``, which Costwarden reports to the owner as
a tag violation), a few edge cases (date-only expiry *today*, malformed ``next week``), a few expired but protected
(``costwarden:protect=true``; termination protection on), and an Auto Scaling group of 20 whose group tag
``expires_at`` (expired) propagates to its instances.

**Idle fleet** (1,050 ``m5.large``, 14 days of hourly ``CPUUtilization``, one point an hour at :30): idle (1-10 %),
busy (30-80 %), nightly (3 %, one hour a day at 95 %), sparse (2 %, one hour in four: below the finder's coverage).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

AMI = "ami-12345678"
REGION = "us-east-1"
BATCH = 1_000  # RunInstances MaxCount and PutMetricData datums per call
ASG_NAME = "peer-train-asg"
ASG_SIZE = 20
EDGE = 10  # instances per edge category

Client = Callable[[str], Any]


@dataclass
class Manifest:
    """What was built: instance id -> category, the ASG's members, and how long the build took."""

    categories: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    points: int = 0
    build_s: float = 0.0

    def add(self, ids: list[str], category: str) -> None:
        self.categories.update(dict.fromkeys(ids, category))

    def ids(self, category: str) -> list[str]:
        return [i for i, c in self.categories.items() if c == category]

    def count(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for category in self.categories.values():
            out[category] = out.get(category, 0) + 1
        return dict(sorted(out.items()))


def reaper_mix(total: int) -> dict[str, int]:
    """Instances per category for a reaper fleet of ``total`` (ASG and edge cases fixed, the rest 15/35/50 %)."""
    fixed = {
        "asg_member_expired_group": ASG_SIZE,
        "expired_protect_tag": EDGE,
        "expired_termination_protection": EDGE,
        "expires_today_date_only": EDGE,
        "malformed_expiry": EDGE,
    }
    rest = total - sum(fixed.values())
    if rest < 10:
        raise ValueError(f"a reaper fleet needs at least {sum(fixed.values()) + 10} instances, got {total}")
    expired, future = rest * 15 // 100, rest * 35 // 100
    missing = rest - expired - future
    return {
        "expired": expired,
        "future": future,
        "missing_experiment": missing // 2,
        "missing_other": missing - missing // 2,
        **fixed,
    }


def _tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": k.replace("__", ":"), "Value": v} for k, v in pairs.items()]


def _launch(ec2: Any, count: int, tags: list[dict[str, str]], **extra: Any) -> list[str]:
    ids: list[str] = []
    while len(ids) < count:
        n = min(BATCH, count - len(ids))
        out = ec2.run_instances(
            ImageId=AMI,
            MinCount=n,
            MaxCount=n,
            InstanceType="m5.large",
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
            **extra,
        )
        ids += [i["InstanceId"] for i in out["Instances"]]
    return ids


def build_reaper_fleet(client: Client, total: int, now: datetime) -> Manifest:
    """The reaper fleet of ``total`` instances (module docstring); ``client(service)`` is bound to the server."""
    started = time.perf_counter()
    ec2, manifest = client("ec2"), Manifest()
    mix = reaper_mix(total)
    past = (now - timedelta(days=7)).date().isoformat()
    later = (now + timedelta(days=30)).date().isoformat()
    base = {"team": "vision", "environment": "experiment"}
    plans: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("expired", {**base, "expires_at": past}, {}),
        ("future", {**base, "expires_at": later}, {}),
        ("missing_experiment", base, {}),
        ("missing_other", {"team": "vision", "environment": "development"}, {}),
        ("expires_today_date_only", {**base, "expires_at": now.date().isoformat()}, {}),
        ("malformed_expiry", {**base, "expires_at": "next week"}, {}),
        ("expired_protect_tag", {**base, "expires_at": past, "costwarden__protect": "true"}, {}),
        ("expired_termination_protection", {**base, "expires_at": past}, {}),
    ]
    for category, tags, extra in plans:
        manifest.add(_launch(ec2, mix[category], _tags(**tags), **extra), category)
    for instance_id in manifest.ids("expired_termination_protection"):
        # moto 5.2 ignores RunInstances' DisableApiTermination; the attribute call is honoured
        ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
    manifest.groups[ASG_NAME] = _autoscaling_group(client, past)
    manifest.add(manifest.groups[ASG_NAME], "asg_member_expired_group")
    manifest.build_s = time.perf_counter() - started
    return manifest


def _autoscaling_group(client: Client, expires: str) -> list[str]:
    """An ASG of ``ASG_SIZE`` whose tags (``expires_at`` expired) propagate to its instances; returns their ids."""
    ec2, autoscaling = client("ec2"), client("autoscaling")
    ec2.create_launch_template(
        LaunchTemplateName="peer-train", LaunchTemplateData={"ImageId": AMI, "InstanceType": "m5.large"}
    )
    tags = {"team": "vision", "environment": "experiment", "expires_at": expires}
    propagated = {"PropagateAtLaunch": True, "ResourceId": ASG_NAME, "ResourceType": "auto-scaling-group"}
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=ASG_NAME,
        LaunchTemplate={"LaunchTemplateName": "peer-train", "Version": "$Latest"},
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{"Key": k, "Value": v, **propagated} for k, v in tags.items()],
        **dict.fromkeys(("MinSize", "MaxSize", "DesiredCapacity"), ASG_SIZE),
    )
    groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[ASG_NAME])["AutoScalingGroups"]
    return [i["InstanceId"] for i in groups[0]["Instances"]]


#: Idle fleet: category -> instances (1,050 in all).
IDLE_MIX = {"idle": 600, "busy": 300, "nightly": 100, "sparse": 50}
HOURS = 14 * 24


def cpu_profile(category: str, n: int, hour: int) -> float | None:
    """Hourly CPU % of instance ``n`` of ``category`` at ``hour`` (0 = oldest); None: no point that hour."""
    jitter = (n * 7 + hour * 13) % 10
    if category == "idle":
        return 1.0 + jitter * 0.9
    if category == "busy":
        return 30.0 + jitter * 5.0
    if category == "nightly":
        return 95.0 if hour % 24 == 2 else 3.0
    if category == "sparse":
        return 2.0 if hour % 4 == 0 else None
    raise ValueError(f"unknown idle category {category!r}")


def _datums(ids: list[str], category: str, first_hour: datetime) -> Iterator[dict[str, Any]]:
    for n, instance_id in enumerate(ids):
        dims = [{"Name": "InstanceId", "Value": instance_id}]
        for hour in range(HOURS):
            value = cpu_profile(category, n, hour)
            if value is not None:
                stamp = first_hour + timedelta(hours=hour, minutes=30)
                yield {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": stamp, "Value": value}


def build_idle_fleet(client: Client, now: datetime, mix: dict[str, int] | None = None) -> Manifest:
    """The idle fleet (module docstring): instances, then their points, ``BATCH`` datums per ``PutMetricData``."""
    started = time.perf_counter()
    ec2, cloudwatch, manifest = client("ec2"), client("cloudwatch"), Manifest()
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS)
    tags = _tags(team="vision", environment="development")
    for category, count in (mix or IDLE_MIX).items():
        ids = _launch(ec2, count, tags)
        manifest.add(ids, category)
        batch: list[dict[str, Any]] = []
        for datum in _datums(ids, category, first_hour):
            batch.append(datum)
            if len(batch) == BATCH:
                cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=batch)
                manifest.points += len(batch)
                batch = []
        if batch:
            cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=batch)
            manifest.points += len(batch)
    manifest.build_s = time.perf_counter() - started
    return manifest


def utc_now() -> datetime:
    return datetime.now(UTC)
