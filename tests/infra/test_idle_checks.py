"""Every idle check's IAM is in the idle finder's synthesized role: its declared reads, the read permissions of
the registry types it reads, and the Price List (the rest of the completeness test:
tests/functional/idle/test_checks_complete.py)."""

from __future__ import annotations

import pytest
from costwarden.idle.checks import CHECKS, IdleCheck
from costwarden.idle.checks.base import PRICE_READ
from costwarden.resources import REGISTRY

from tests.infra.conftest import Synth
from tests.infra.test_idle import _actions, _statements


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_every_check_s_iam_is_in_the_idle_role(synth: Synth, check: IdleCheck) -> None:
    allowed = {a for s in _statements(synth) if s["Effect"] == "Allow" and s["Resource"] == "*" for a in _actions(s)}
    needed = {PRICE_READ, *check.reads}
    for name in check.inventory:
        needed.update(REGISTRY[name].read_permissions)
    assert needed <= allowed, sorted(needed - allowed)
