"""Times read back from state records (a keep's ``until``, a hold's ``held_until``): damaged ones never raise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from costwarden.models.expiry import stored_instant


@pytest.mark.parametrize("value", [None, "", "tomorrow", 17, "2026-13-01T00:00:00Z", ["2026-12-08"]])
def test_a_damaged_time_is_none(value: object) -> None:
    assert stored_instant(value) is None


def test_a_naive_time_is_utc_so_it_compares_with_now() -> None:
    assert stored_instant("2026-12-08T00:00:00") == datetime(2026, 12, 8, tzinfo=UTC)
    assert stored_instant("2026-12-08T01:00:00+01:00") == datetime(2026, 12, 8, tzinfo=UTC)
