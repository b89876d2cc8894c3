"""Secrets Manager: read a JSON secret by name, cached for a few minutes per warm Lambda container.

The cache keeps a burst of alerts from costing one GetSecretValue each (and from being throttled), while a rotated
webhook is picked up within ``max_age`` seconds. Error messages name the secret, never its value.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import ClientError

from costwarden.adapters import aws

DEFAULT_MAX_AGE_SECONDS = 300.0

_cache: dict[str, tuple[float, Any]] = {}


class SecretError(RuntimeError):
    """The secret could not be read or is not JSON. Says which secret and why, without its value."""


def get_json_secret(
    name: str,
    *,
    client: Any | None = None,
    max_age: float = DEFAULT_MAX_AGE_SECONDS,
    now: float | None = None,
) -> Any:
    """The decoded JSON value of secret ``name`` (cached for ``max_age`` seconds)."""
    moment = time.monotonic() if now is None else now
    cached = _cache.get(name)
    if cached is not None and moment - cached[0] < max_age:
        return cached[1]
    secrets = client or aws.client("secretsmanager")
    try:
        response = secrets.get_secret_value(SecretId=name)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise SecretError(f"cannot read secret {name!r}: {code}") from None
    raw = response.get("SecretString")
    if raw is None:
        raise SecretError(f"secret {name!r} has no SecretString (binary secrets are not supported)")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise SecretError(f"secret {name!r} is not valid JSON") from None
    _cache[name] = (moment, value)
    return value


def clear_cache() -> None:
    """Forget cached secrets (tests; the demo between simulated accounts)."""
    _cache.clear()
