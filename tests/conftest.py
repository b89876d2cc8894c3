"""Test-wide safety: fake credentials and a fixed region, so no test can ever reach a real AWS account."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.support.slack_posts import every_slack_post_checked, slack_unchecked  # noqa: F401 - autouse: issue 22

# Set at import, before any test module creates a boto3 session.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Costwarden",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("COSTWARDEN_SETTINGS", None)
os.environ.pop("COSTWARDEN_TEAMS_FILE", None)


@pytest.fixture(autouse=True)
def _fresh_clients_and_settings() -> Iterator[None]:
    """Cached boto3 clients and settings must not leak between tests (a client made outside moto is real)."""
    from costwarden.adapters import aws
    from costwarden.settings import load_settings

    # Settings travel in the environment (as deployed): whatever a test or a demo chapter sets there ends with it.
    saved = {name: os.environ.get(name) for name in ("COSTWARDEN_SETTINGS", "COSTWARDEN_TEAMS_FILE")}
    if "moto" in sys.modules:  # moto lacks EC2 Capacity Reservations, which the idle scan lists
        from costwarden.demo.moto_capacity import install

        install()
    aws.client.cache_clear()
    load_settings.cache_clear()
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    aws.client.cache_clear()
    load_settings.cache_clear()
