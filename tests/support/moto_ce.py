"""What moto's Cost Explorer lacks, answered in moto itself (for clients the product builds where a test cannot
reach them: member accounts' clients, the CLI's cached defaults)."""

from __future__ import annotations

import json

import pytest
from moto.ce.responses import CostExplorerResponse


def list_cost_allocation_tags(self: CostExplorerResponse) -> str:
    """moto 5.2.5 has no ListCostAllocationTags (tests/functional/tags/conftest.py answers it per client): the
    documented shape, every requested key known and Active."""
    keys = json.loads(self.body or "{}").get("TagKeys", [])
    tags = [
        {"TagKey": k, "Type": "UserDefined", "Status": "Active", "LastUpdatedDate": "2026-11-01T00:00:00Z"}
        for k in keys
    ]
    return json.dumps({"CostAllocationTags": tags})


def answer_cost_allocation_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the test: moto's Cost Explorer answers ListCostAllocationTags (``list_cost_allocation_tags``)."""
    monkeypatch.setattr(CostExplorerResponse, "list_cost_allocation_tags", list_cost_allocation_tags, raising=False)
