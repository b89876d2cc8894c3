"""Development limits, pure (issue 15): GPU table, what is counted, newest-first picks that skip guarded ones,
with non-default tag keys and environment mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from costwarden.reaper.gpus import gpus_for
from costwarden.reaper.limits import count, plan
from costwarden.resources.model import Resource
from costwarden.settings import parse_settings


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        ("p4d.24xlarge", (8, True)),
        ("ml.g5.12xlarge", (4, True)),
        ("g4dn.xlarge", (1, True)),
        ("trn1.32xlarge", (16, True)),
        ("inf2.48xlarge", (12, True)),
        ("dl1.24xlarge", (8, True)),
        ("t3.micro", (0, False)),
        ("", (0, False)),
        ("g5.huge", (0, False)),
    ],
)
def test_gpu_table(instance_type: str, expected: tuple[int, bool]) -> None:
    assert gpus_for(instance_type) == expected


SETTINGS = parse_settings(
    {
        "tags": {"team_key": "squad", "environment_key": "env", "protect_key": "keep-me"},
        "budgets": {"pools": {"environments": {"prod": "production", "lab": "experiment"}}},
        "teams": {"vision": {"limits": {"development_instances": 2, "action": "stop"}}},
    }
)


def _r(n: int, env: str = "lab", state: str = "running", **tags: str) -> Resource:
    return Resource(
        arn=f"arn:aws:ec2:us-east-1:1:instance/i-{n}",
        type="ec2:instance",
        region="us-east-1",
        id=f"i-{n}",
        tags={"squad": "vision", "env": env, **tags},
        state=state,
        details={"instance_type": "g5.xlarge"},
        started_at=datetime(2026, 12, 10, n, tzinfo=UTC),
    )


def test_only_running_resources_of_the_experiment_environments_count() -> None:
    resources = [_r(1), _r(2, env="prod"), _r(3, state="stopped"), _r(4, env="development"), _r(5)]
    [vision] = count(resources, SETTINGS)
    assert [c.resource.id for c in vision.resources] == ["i-5", "i-1"]  # newest first; "development" is unmapped here
    assert (vision.instances, vision.gpus, vision.level) == (2, 2, "at")


def test_newest_beyond_the_limit_skipping_the_protected_with_configured_keys() -> None:
    resources = [_r(1), _r(2), _r(3, **{"keep-me": "TRUE"}), _r(4), _r(5, env="prod")]
    result = plan(resources, SETTINGS)
    assert [r.id for r in result.stops] == ["i-4", "i-2"]
    skipped = [d for d in result.decisions if d.status.value == "skipped"]
    assert [d.id for d in skipped] == ["i-3"] and "protected by keep-me=true" in skipped[0].reason


def test_report_plans_no_stop() -> None:
    settings = SETTINGS.model_copy(
        update={
            "teams": {
                "vision": SETTINGS.teams["vision"].model_copy(
                    update={"limits": SETTINGS.teams["vision"].limits.model_copy(update={"action": "report"})}
                )
            }
        }
    )
    result = plan([_r(1), _r(2), _r(4)], settings)
    assert result.stops == [] and result.counts[0].level == "over"
