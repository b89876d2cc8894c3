"""boto3 clients: one cached default per (service, region), always overridable by passing a client in.

Only boto3's standard configuration is used (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``), so a simulated
endpoint (moto) needs no special flag. Retries use botocore's ``standard`` mode, which backs off on throttling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 6}, user_agent_extra="costwarden")
#: What an AWS call raises when the service refuses (``ClientError``) or cannot be reached (``BotoCoreError``):
#: callers outside the adapters catch this tuple instead of importing botocore (import-linter, ``make lint``).
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
#: Called after every request a client made here sends, with ``(service, region, operation)``: how the CLI shows
#: progress on long runs (``cli/progress.py``). Empty in Lambda, where nothing registers.
ON_REQUEST: list[Callable[[str, str, str], None]] = []


def watched(made: Any, service: str, region: str | None) -> Any:
    """``made`` (a new boto3 client), reporting each request it sends to ``ON_REQUEST``."""
    made.meta.events.register("after-call", partial(_notify, service, region or made.meta.region_name or ""))
    return made


def _notify(service: str, region: str, model: Any = None, **_kwargs: Any) -> None:
    for hook in tuple(ON_REQUEST):
        hook(service, region, str(getattr(model, "name", "?")))


@lru_cache(maxsize=64)
def client(service: str, region: str | None = None) -> Any:
    """A cached boto3 client. Tests call ``client.cache_clear()`` (see tests/conftest.py) between moto contexts."""
    made = boto3.session.Session().client(service, region_name=region, config=RETRY_CONFIG)  # type: ignore[call-overload]
    return watched(made, service, region)


def token_pages(
    call: Callable[[dict[str, Any]], dict[str, Any]], params: dict[str, Any], cursor: str
) -> Iterator[dict[str, Any]]:
    """Every page of a token-paged request (where botocore has no paginator, or the caller counts and retries each
    request itself: ``call`` makes one request of ``params``). ``cursor`` names the page token, the same field in
    request and response (``NextToken``, ``NextPageToken``, ``nextToken``); the last page carries none."""
    while True:
        page = call(params)
        yield page
        token = page.get(cursor)
        if not token:
            return
        params = {**params, cursor: token}


def default_region() -> str:
    """The region boto3 would use, falling back to us-east-1 (Cost Explorer's home) when none is configured."""
    return boto3.session.Session().region_name or "us-east-1"


def assumed_clients(role_arn: str, session_name: str = "costwarden-hard-limit") -> Any:
    """A ``clients(service, region)`` factory acting as ``role_arn`` (one AssumeRole per call of this function):
    destructive work runs under its own, narrower role, never the caller's."""
    credentials = client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return credential_clients(credentials)


def credential_clients(credentials: dict[str, Any]) -> Callable[[str, str], Any]:
    """A ``clients(service, region)`` factory over AssumeRole's ``Credentials``: one cached client per (service,
    region), with the retry configuration of every other client (the hard limit's role, a member account's)."""
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    cache: dict[tuple[str, str], Any] = {}

    def clients(service: str, region: str) -> Any:
        if (service, region) not in cache:
            made = session.client(service, region_name=region, config=RETRY_CONFIG)  # type: ignore[call-overload]
            cache[(service, region)] = watched(made, service, region)
        return cache[(service, region)]

    return clients
