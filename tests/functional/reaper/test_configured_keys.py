"""The reaper end to end on moto with non-default tag keys: nothing may fall back to ``expires_at`` & co.

A configured key honoured by the planner but not by the mark action re-marks the same resource every run; an
extend command naming ``expires_at`` tells the owner to write a tag the reaper never reads.
"""

from __future__ import annotations

from datetime import timedelta

from costwarden.models.alert import AlertKind
from costwarden.resources.model import Status
from costwarden.settings import Settings, parse_settings

from tests.functional.reaper.reaper_env import EXPIRED, NOW, Account, by_id

KEYS = {"expires_key": "ttl", "protect_key": "acme:keep", "environment_key": "env", "team_key": "owner"}


def custom(**reaper: object) -> Settings:
    return parse_settings(
        {
            "tags": {
                **KEYS,
                "required": ["owner", "env"],
                "optional": ["ttl"],
                "allowed_values": {"env": ["production", "staging", "development", "experiment"]},
            },
            "reaper": {"missing_expiry": "mark", "default_ttl_days": 3, **reaper},
            "stack_tags": {"owner": "platform", "env": "production"},
        }
    )


def _no_default_key_anywhere(text: str) -> None:
    for default in ("expires_at", "costwarden:protect", "environment=", "team="):
        assert default not in text, (default, text)


def test_mark_warn_act_and_extend_all_use_the_configured_keys(account: Account) -> None:
    cfg = custom()
    (unmarked,) = account.instances(1, owner="vision", env="experiment")
    account.asg("fleet", size=1, owner="nlp", env="experiment")
    emr_id = account.emr("etl", owner="nlp", env="experiment")
    (expired,) = account.instances(1, owner="vision", ttl=EXPIRED)
    (kept,) = account.instances(1, owner="vision", ttl=EXPIRED, **{"acme:keep": "true"})
    (prod,) = account.instances(1, owner="vision", ttl=EXPIRED, env="production")
    # Default keys mean nothing under this policy: neither acted on nor protecting anything.
    (default_key,) = account.instances(1, owner="vision", expires_at=EXPIRED)
    (soon,) = account.instances(1, owner="vision", ttl=(NOW + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    (bad,) = account.instances(1, owner="risk", ttl="next week")

    first = account.run(cfg, apply=True)
    decisions = by_id(first)
    # mark: the configured key is written, on every type, through its own API
    value = "2026-12-13T12:00:00Z"
    assert (decisions[unmarked].action, decisions[unmarked].status) == ("mark", Status.DONE)
    assert account.instance_tags(unmarked)["ttl"] == value and "expires_at" not in account.instance_tags(unmarked)
    assert decisions["fleet"].status is Status.DONE and decisions[emr_id].status is Status.DONE
    asg_tags = account.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["fleet"])
    assert {t["Key"] for t in asg_tags["AutoScalingGroups"][0]["Tags"]} >= {"ttl"}
    assert "expires_at" not in {t["Key"] for t in asg_tags["AutoScalingGroups"][0]["Tags"]}
    emr_tags = {
        t["Key"]: t["Value"] for t in account.client("emr").describe_cluster(ClusterId=emr_id)["Cluster"]["Tags"]
    }
    assert emr_tags.get("ttl") == value and "expires_at" not in emr_tags
    assert "no ttl: tag ttl=" in decisions[unmarked].reason
    # act: expired under the configured key; guards read the configured keys
    assert decisions[expired].status is Status.DONE and account.instance_state(expired) == "terminated"
    assert decisions[kept].status is Status.SKIPPED and "protected by acme:keep=true" in decisions[kept].reason
    assert decisions[prod].status is Status.SKIPPED and "env=production" in decisions[prod].reason
    assert account.instance_state(kept) == account.instance_state(prod) == "running"
    assert default_key not in decisions and account.instance_state(default_key) == "running"
    assert decisions[expired].team == "vision" and decisions[expired].expires_at == EXPIRED

    # warn: texts and extend commands name the configured key
    warnings = {e.details["arn"].rsplit("/", 1)[-1]: e for e in account.published if e.kind is AlertKind.EXPIRY_WARNING}
    assert set(warnings) >= {unmarked, soon}
    for event in warnings.values():
        assert event.team in {"vision", "nlp"}
        _no_default_key_anywhere(event.title + event.summary + event.details["extend_command"])
    assert f"--resources {soon} --tags Key=ttl,Value=" in warnings[soon].details["extend_command"]
    assert "tagged it ttl=" in warnings[unmarked].summary
    assert "env=experiment" in warnings[unmarked].summary
    violation = next(e for e in account.published if e.kind is AlertKind.TAG_VIOLATION)
    assert violation.team == "risk" and f"{bad} (us-east-1): ttl='next week'" in violation.details["items"][0]
    _no_default_key_anywhere(violation.title + violation.summary + "".join(violation.details["items"]))
    reaped = next(e for e in account.published if e.kind is AlertKind.REAPED)
    _no_default_key_anywhere(reaped.title + reaped.summary)

    # re-run: nothing new is marked, nothing new is published
    published = len(account.published)
    again = by_id(account.run(cfg, apply=True, now=NOW + timedelta(minutes=5)))
    assert not [d for d in again.values() if d.action == "mark"]
    assert again[unmarked].reason.startswith(f"live: expires {value}")
    assert len(account.published) == published


def test_extend_commands_of_every_type_name_the_configured_key() -> None:
    from costwarden.resources import REGISTRY
    from costwarden.resources.model import Resource

    for rtype in REGISTRY.values():
        resource = Resource(
            arn=f"arn:aws:{rtype.service}:us-east-1:123456789012:{rtype.arn_match[1]}/x",
            type=rtype.name,
            region="us-east-1",
            id="x",
            tags={},
        )
        command = rtype.extend_command(resource, "ttl", "2027-01-01")
        assert "ttl" in command and "expires_at" not in command, (rtype.name, command)


def test_endpoint_config_is_deleted_by_the_configured_keys(account: Account) -> None:
    cfg = custom()
    account.endpoint("old", owner="vision", ttl=EXPIRED, config_tags={"ttl": EXPIRED})
    account.endpoint("kept", owner="vision", ttl=EXPIRED, config_tags={"ttl": EXPIRED, "acme:keep": "true"})
    account.endpoint("legacy", owner="vision", ttl=EXPIRED, config_tags={"expires_at": EXPIRED})
    account.run(cfg, apply=True)
    assert account.endpoints() == []
    assert sorted(account.endpoint_configs()) == ["c-kept", "c-legacy"]
