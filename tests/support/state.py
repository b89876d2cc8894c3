"""The deployment's state table on moto, as the stack creates it (string ``pk`` / ``sk``, on demand)."""

from __future__ import annotations

from typing import Any

KEYS = {"pk": "HASH", "sk": "RANGE"}


def create_state_table(dynamodb: Any, name: str) -> None:
    """Create the state table ``name`` through the ``dynamodb`` client."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in KEYS.items()],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in KEYS],
        BillingMode="PAY_PER_REQUEST",
    )
