"""Digest inputs of any size (``costwarden.demo.example_digest.synthetic_input``), as a fixture."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from costwarden.demo.example_digest import synthetic_input
from costwarden.models.digest import DigestInput


@pytest.fixture
def make_fleet() -> Callable[..., DigestInput]:
    return synthetic_input
