"""The unit-cost function in the template (``unitcost.enabled``): daily, the analytics bundle, the Athena path's read
grants and the CloudWatch metric reads only; absent when off; refused at synth without ``cost_source: athena``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from costwarden.settings import SettingsError

from infra.cost_monitor import ATHENA_ACTIONS
from tests.infra.conftest import Synth, synthesize

FUNCTION = "UnitCosts/Function/Function"
HANDLER = "costwarden.handlers.unitcost.handler"


@pytest.fixture(scope="module")
def enabled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    context = {"cost_source": "athena", "unitcost": {"enabled": True}}
    yield synthesize(tmp_path_factory.mktemp("cdk-unitcost"), {"costwarden": context})


def _handlers(synth: Synth) -> list[str]:
    return [f["Properties"].get("Handler", "") for f in synth.resources("AWS::Lambda::Function").values()]


def test_the_function_runs_daily_with_the_athena_reads_and_metric_reads(enabled: Synth) -> None:
    assert _handlers(enabled).count(HANDLER) == 1
    function = enabled.resource(FUNCTION)["Properties"]
    assert function["MemorySize"] == 1024 and function["Timeout"] == 600
    rules = [
        r["Properties"] for r in enabled.resources("AWS::Events::Rule").values()
        if "unit costs" in r["Properties"].get("Description", "")
    ]  # fmt: skip
    assert [r["ScheduleExpression"] for r in rules] == ["cron(30 7 * * ? *)"]  # an hour before the cost monitor (08:00)
    statements = enabled.role_statements(function["Role"]["Fn::GetAtt"][0])
    actions = set()
    for statement in statements:
        listed = statement["Action"]
        actions |= {listed} if isinstance(listed, str) else set(listed)
    assert actions >= set(ATHENA_ACTIONS) | {"glue:GetTable", "s3:GetObject", "cloudwatch:GetMetricData"}
    assert {a for a in actions if a.startswith("cloudwatch:")} == {"cloudwatch:GetMetricData", "cloudwatch:ListMetrics"}
    writes = {a for a in actions if a.split(":")[1].startswith(("Delete", "Terminate", "Stop", "Create"))}
    # Stopping its own overdue query, releasing a publish claim in the state table, its own log stream: nothing else.
    assert writes == {"athena:StopQueryExecution", "dynamodb:DeleteItem", "logs:CreateLogStream"}, writes


def test_no_function_without_unitcost_enabled(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {"cost_source": "athena"}})
    assert HANDLER not in _handlers(synth)


@pytest.mark.parametrize(
    ("context", "key"),
    [
        ({"unitcost": {"enabled": True}}, "cost_source: athena"),
        (
            {
                "cost_source": "athena",
                "unitcost": {"enabled": True},
                "organization": {"athena": {"export_format": "focus"}},
            },
            "organization.athena.export_format: cur2",
        ),
    ],
)
def test_synth_refuses_unit_costs_without_the_athena_path(tmp_path: Path, context: dict, key: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(SettingsError, match=rf"unitcost\.enabled needs {key}"):
        synthesize(tmp_path, {"costwarden": context})
