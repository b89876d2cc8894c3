"""The default tag policy is the source document's: teams adopting it must not see valid phases flagged."""

from __future__ import annotations

import pytest
from costwarden.settings import TagPolicy
from costwarden.tags.validate import Code, validate_tags

SOURCE_PHASES = ("training", "inference", "feature_pipeline", "monitoring", "data_pipeline", "development")
SOURCE_ENVIRONMENTS = ("production", "staging", "development", "experiment")
BASE = {"team": "ml", "project": "p", "model_id": "m", "environment": "experiment", "cost_center": "cc"}


def test_defaults_are_the_source_policy() -> None:
    policy = TagPolicy()
    assert policy.allowed_values["lifecycle_phase"] == SOURCE_PHASES
    assert policy.allowed_values["environment"] == SOURCE_ENVIRONMENTS


@pytest.mark.parametrize("phase", SOURCE_PHASES)
def test_every_source_phase_passes(phase: str) -> None:
    assert validate_tags({**BASE, "lifecycle_phase": phase}, TagPolicy()).ok


@pytest.mark.parametrize("phase", ["research", "evaluation", "retired"])
def test_old_phases_are_flagged(phase: str) -> None:
    codes = [f.code for f in validate_tags({**BASE, "lifecycle_phase": phase}, TagPolicy()).findings]
    assert codes == [Code.VALUE_NOT_ALLOWED]
