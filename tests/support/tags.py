"""Tags that pass the default tag policy (``TagPolicy()``): every required key, each with a valid value."""

from __future__ import annotations

#: Every key the default policy requires, with values its rules accept. Shared by many modules: copy it
#: (``{**GOOD_TAGS, "team": "x"}``) rather than change it.
GOOD_TAGS: dict[str, str] = {
    "team": "ml-platform",
    "project": "ranker",
    "model_id": "ranker-v3",
    "environment": "experiment",
    "lifecycle_phase": "training",
    "cost_center": "cc-1234",
}
