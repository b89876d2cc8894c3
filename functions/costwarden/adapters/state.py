"""The state table (DynamoDB, one table, ``pk``/``sk`` keys, TTL on ``expiration``) behind a small interface.

What lives there (pk prefixes): ``idempotency#...`` (Powertools, notifier), ``dedup#<scope>`` (alerts already
sent, claims in progress (``core.publish``), episodes, expiry warnings), ``audit#<yyyy-mm-dd>`` (reaper
decisions), ``cost#<metric>#<keys>`` (final Cost Explorer days). ``MemoryStateStore`` is the same interface in
memory: unit tests, and the CLI on an account where Costwarden is not deployed (it then keeps no state
between runs, and says so).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from costwarden.adapters import aws
from costwarden.models.ports import LEASE_ATTRIBUTE
from costwarden.models.ports import StateStore as StateStore  # noqa: PLC0414 - explicit re-export of the port

TTL_ATTRIBUTE = "expiration"
STATE_TABLE_ENV_VAR = "STATE_TABLE_NAME"


def ttl_in(days: float, now: float | None = None) -> int:
    """Epoch seconds ``days`` from now, for the table's TTL attribute."""
    return int((now if now is not None else time.time()) + days * 86_400)


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


class DynamoStateStore:
    """``StateStore`` on the deployed state table."""

    def __init__(self, table_name: str, dynamodb_resource: Any | None = None) -> None:
        resource = dynamodb_resource or _resource()
        self.table = resource.Table(table_name)

    def _item(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None) -> dict[str, Any]:
        item = {**_to_dynamo(data), "pk": pk, "sk": sk}
        if ttl_days is not None:
            item[TTL_ATTRIBUTE] = ttl_in(ttl_days)
        return item

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")
        return _from_dynamo(item) if item else None

    def put(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> None:
        self.table.put_item(Item=self._item(pk, sk, data, ttl_days))

    def put_if_absent(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> bool:
        try:
            self.table.put_item(Item=self._item(pk, sk, data, ttl_days), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def claim(self, pk: str, sk: str, data: dict[str, Any], *, now: float, ttl_days: float | None = None) -> bool:
        # A missing lease attribute fails the comparison: a complete record is never taken over.
        try:
            self.table.put_item(
                Item=self._item(pk, sk, data, ttl_days),
                ConditionExpression="attribute_not_exists(pk) OR #lease < :now",
                ExpressionAttributeNames={"#lease": LEASE_ATTRIBUTE},
                ExpressionAttributeValues={":now": _to_dynamo(float(now))},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        from boto3.dynamodb.conditions import Key

        condition: Any = Key("pk").eq(pk)
        if sk_prefix:
            condition = condition & Key("sk").begins_with(sk_prefix)
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            page = self.table.query(**kwargs)
            items.extend(_from_dynamo(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_many(self, items: Iterable[tuple[str, str, dict[str, Any]]], ttl_days: float | None = None) -> None:
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for pk, sk, data in items:
                batch.put_item(Item=self._item(pk, sk, data, ttl_days))

    def delete(self, pk: str, sk: str) -> None:
        self.table.delete_item(Key={"pk": pk, "sk": sk})


def _resource() -> Any:
    import boto3

    return boto3.resource("dynamodb", config=aws.RETRY_CONFIG)


@dataclass
class MemoryStateStore:
    """``StateStore`` in memory: nothing survives the process (the CLI says so when it uses this)."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self.items.get((pk, sk))
        return dict(item) if item is not None else None

    def put(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> None:
        item = {**data, "pk": pk, "sk": sk}
        if ttl_days is not None:
            item[TTL_ATTRIBUTE] = ttl_in(ttl_days)
        self.items[(pk, sk)] = item

    def put_if_absent(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> bool:
        if (pk, sk) in self.items:
            return False
        self.put(pk, sk, data, ttl_days)
        return True

    def claim(self, pk: str, sk: str, data: dict[str, Any], *, now: float, ttl_days: float | None = None) -> bool:
        held = self.items.get((pk, sk))
        lease = held.get(LEASE_ATTRIBUTE) if held is not None else None
        if held is not None and not (isinstance(lease, int | float) and lease < now):
            return False
        self.put(pk, sk, data, ttl_days)
        return True

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        return [dict(v) for (p, s), v in sorted(self.items.items()) if p == pk and s.startswith(sk_prefix)]

    def put_many(self, items: Iterable[tuple[str, str, dict[str, Any]]], ttl_days: float | None = None) -> None:
        for pk, sk, data in items:
            self.put(pk, sk, data, ttl_days)

    def delete(self, pk: str, sk: str) -> None:
        self.items.pop((pk, sk), None)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.items.values())
