"""Secrets Manager: read a JSON secret by name, cached for a few minutes per warm Lambda container.

The cache keeps a burst of alerts from costing one GetSecretValue each (and from being throttled), while a rotated
webhook is picked up within ``max_age`` seconds. Error messages name the secret, never its value.

botocore logs every response body at DEBUG (``botocore.parsers`` "Response body: ...", and ``botocore.hooks`` passes
the parsed response around in its event lines), so with the root logger at DEBUG (``AWS_LAMBDA_LOG_LEVEL=DEBUG``, a
developer's ``logging.basicConfig``) GetSecretValue would print the secret. While a secret is read, this thread's
botocore log records are dropped (measured: the functional test captures logs at DEBUG and looks for the URLs).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from costwarden.adapters import aws
from costwarden.redaction import redact

DEFAULT_MAX_AGE_SECONDS = 300.0

_cache: dict[str, tuple[float, Any]] = {}


class _QuietWhileReading(logging.Filter):
    """Drops botocore records emitted by a thread that is reading a secret."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "active", False)


_QUIET = _QuietWhileReading()


@contextmanager
def _botocore_silenced() -> Iterator[None]:
    """No botocore log line from this thread while the block runs (other threads are unaffected)."""
    names = [name for name in logging.root.manager.loggerDict if name == "botocore" or name.startswith("botocore.")]
    for name in names:
        logging.getLogger(name).addFilter(_QUIET)  # adding the same filter twice is a no-op
    _QUIET.local.active = True
    try:
        yield
    finally:
        _QUIET.local.active = False


class SecretError(RuntimeError):
    """The secret could not be read or is not JSON. Says which secret and why, without its value.

    The message is redacted: a webhook URL given where the secret's *name* belongs (an environment variable set by
    hand) must not come back in the error, nor one that a botocore error happens to quote.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


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
    # Errors are raised outside the ``except`` blocks: a chained botocore or JSON error (its ``doc`` is the secret's
    # text) must not travel with ours, not even as ``__context__``.
    problem = ""
    try:
        with _botocore_silenced():
            response = secrets.get_secret_value(SecretId=name)
    except ClientError as error:
        problem = f"cannot read secret {name!r}: {error.response.get('Error', {}).get('Code', 'error')}"
    except BotoCoreError as error:  # no credentials, endpoint unreachable, ...
        problem = f"cannot read secret {name!r}: {error}"
    if problem:
        raise SecretError(problem)
    raw = response.get("SecretString")
    if raw is None:
        raise SecretError(f"secret {name!r} has no SecretString (binary secrets are not supported)")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        problem = f"secret {name!r} is not valid JSON (line {error.lineno}, column {error.colno})"
    if problem:
        raise SecretError(problem)
    _cache[name] = (moment, value)
    return value


def clear_cache() -> None:
    """Forget cached secrets (tests; the demo between simulated accounts)."""
    _cache.clear()
