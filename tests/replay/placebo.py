"""Replay recorded AWS responses (Cloud Custodian's placebo format) through botocore's Stubber.

A placebo file is ``{"status_code": N, "data": {...}}``: the parsed response botocore returned when it was
recorded, datetimes written as ``{"__class__": "datetime", "year": ...}``. ``status_code`` 2xx becomes
``Stubber.add_response`` (``ResponseMetadata`` dropped: botocore adds its own), anything else
``add_client_error`` with the recorded error code and message. Stubber validates every response against the
service model of the installed botocore, so a recording that no longer fits the API fails loudly here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

FIXTURES = Path(__file__).parent / "fixtures"


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("__class__") == "datetime":
            parts = {k: v for k, v in value.items() if k != "__class__"}
            return datetime(**parts, tzinfo=UTC)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def load(relative: str) -> dict[str, Any]:
    """A recording under ``fixtures/`` as ``{"status_code", "data"}`` with datetimes decoded."""
    raw = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
    return {"status_code": int(raw["status_code"]), "data": _decode(raw["data"])}


def stubbed(service: str, region: str = "us-east-1") -> tuple[Any, Stubber]:
    session = boto3.session.Session(aws_access_key_id="replay", aws_secret_access_key="replay")
    client: Any = session.client(service, region_name=region)  # type: ignore[call-overload]
    return client, Stubber(client)


def add(stub: Stubber, operation: str, relative: str, expected_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Queue the recording ``relative`` as the answer to ``operation`` (snake_case); returns its data."""
    recording = load(relative)
    data = {k: v for k, v in recording["data"].items() if k != "ResponseMetadata"}
    status = recording["status_code"]
    if 200 <= status < 300:
        stub.add_response(operation, data, expected_params)
    else:
        error = data.get("Error", {})
        stub.add_client_error(
            operation,
            service_error_code=error.get("Code", ""),
            service_message=error.get("Message", ""),
            http_status_code=status,
            expected_params=expected_params,
        )
    return data
