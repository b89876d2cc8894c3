"""k8s_guard: the idle finder's role reads the split cost data through the cost monitor's own Athena grants (the
same statements on the same workgroup, Glue table, export prefix and results prefix). One synth, seconds of CPU;
the guard's condition (``infra/idle.py``: Athena and the guard on) is the one line not synthesized off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra.conftest import Synth, synthesize


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    context = {"costwarden": {"cost_source": "athena", "k8s_guard": {"enabled": True}}}
    yield synthesize(tmp_path_factory.mktemp("cdk-k8s"), context)


def test_the_idle_finder_reads_split_cost_data_with_the_monitors_grants(guarded: Synth) -> None:
    idle = guarded.resource("IdleFinder/K8sCostRead")["Properties"]
    monitor = guarded.resource("CostMonitor/AthenaCostRead")["Properties"]
    assert idle["PolicyDocument"] == monitor["PolicyDocument"]
    idle_role = guarded.resource("IdleFinder/Function/Function")["Properties"]["Role"]["Fn::GetAtt"][0]
    assert idle["Roles"] == [{"Ref": idle_role}]
