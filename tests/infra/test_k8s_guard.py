"""k8s_guard: the idle finder's role reads the split cost data through the cost monitor's own Athena grants (the
same statements on the same workgroup, table and export), and only when the guard is on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.infra.conftest import Synth, actions_of, synthesize

ATHENA = "athena:StartQueryExecution"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    context = {"costwarden": {"cost_source": "athena", "k8s_guard": {"enabled": True}}}
    yield synthesize(tmp_path_factory.mktemp("cdk-k8s"), context)


def _statements(synth: Synth, function: str) -> list[dict[str, object]]:
    role: str = synth.resource(f"{function}/Function/Function")["Properties"]["Role"]["Fn::GetAtt"][0]
    return synth.role_statements(role)


def test_the_idle_finder_reads_split_cost_data_with_the_monitors_grants(guarded: Synth) -> None:
    monitor = [
        s for s in _statements(guarded, "CostMonitor") if any(a.startswith(("athena:", "glue:")) for a in actions_of(s))
    ]
    idle = [
        s for s in _statements(guarded, "IdleFinder") if any(a.startswith(("athena:", "glue:")) for a in actions_of(s))
    ]
    assert idle and idle == monitor  # the same statements: workgroup, Glue table, export prefix, results prefix


def test_without_the_guard_the_idle_finder_has_no_athena_grant(tmp_path: Path) -> None:
    synth = synthesize(tmp_path, {"costwarden": {"cost_source": "athena"}})
    assert not [s for s in _statements(synth, "IdleFinder") if ATHENA in actions_of(s)]
    assert [s for s in _statements(synth, "CostMonitor") if ATHENA in actions_of(s)]
