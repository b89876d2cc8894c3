"""A Lambda context for invoking a handler in-process: ``costwarden run``, the demo and the tests call the real
handlers with it, so all of them share this one stand-in (the CLI and the demo are entry points side by side; neither
imports the other for it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass
class LocalContext:
    """Enough of ``LambdaContext`` for Powertools (logger, metrics, idempotency) outside Lambda."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    timeout_ms: int = 60_000

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = (
            self.invoked_function_arn
            or f"arn:aws:lambda:us-east-1:000000000000:function:costwarden-{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms
