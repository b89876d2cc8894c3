"""Fixtures in the real response shapes (tests/fixtures/advisor), served through botocore's ``Stubber``, which
validates both our requests and the fixtures against the service model."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "advisor"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    for item in data.get("SpotPriceHistory", []):  # a timestamp shape: botocore parses it into a datetime
        item["Timestamp"] = datetime.fromisoformat(item["Timestamp"].replace("Z", "+00:00"))
    return data
