"""The state table as the stack creates it (``pk``/``sk`` strings, on demand), for tests under moto.

Several test modules still create it by hand; new ones call ``create_state_table`` instead.
"""

from __future__ import annotations

import boto3

STATE_TABLE = "costwarden-state"
#: (attribute, key type) of the table's primary key, both strings.
STATE_KEYS = (("pk", "HASH"), ("sk", "RANGE"))


def create_state_table(name: str = STATE_TABLE, region: str = "us-east-1") -> str:
    """Create the table in the active moto account; returns its name."""
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in STATE_KEYS],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in STATE_KEYS],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
