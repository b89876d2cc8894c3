"""Wiring for the Slack app's endpoint: the signing secret and bot token (Secrets Manager, by name), the state
table, AWS clients, the Slack adapters. The handler and the benchmark call these; tests pass moto and the stand-in.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from costwarden.adapters import aws, secrets
from costwarden.adapters.slack_app import SLACK_API, ResponseUrlResponder, SlackGroupsApi
from costwarden.interact.actions import Context
from costwarden.models.ports import StateStore
from costwarden.services.reaper import regions_for
from costwarden.settings import Settings

APP_SECRET_ENV_VAR = "SLACK_APP_SECRET_NAME"  # noqa: S105 - the variable's name, not a secret
#: The hard-limit role (deployed only when some team opts in); unset: Enforce/Lift answer "not deployed".
HARD_LIMIT_ROLE_ENV_VAR = "HARD_LIMIT_ROLE_ARN"


class AppSecretError(RuntimeError):
    """The app secret lacks a field; names the field, never a value."""


def app_secret(name: str, client: Any | None = None) -> tuple[bytes, str]:
    """``(signing secret, bot token)`` from the JSON secret ``name`` (``{"signing_secret", "bot_token"}``);
    the bot token may be empty (user groups are then not resolved: only listed user ids count)."""
    value = secrets.get_json_secret(name, client=client)
    signing = value.get("signing_secret") if isinstance(value, dict) else None
    if not isinstance(signing, str) or not signing:
        raise AppSecretError(f"secret {name!r} has no signing_secret string")
    token = value.get("bot_token", "") if isinstance(value, dict) else ""
    return signing.encode(), token if isinstance(token, str) else ""


def context(
    settings: Settings,
    state: StateStore,
    *,
    bot_token: str,
    slack_api: str = SLACK_API,
    now: datetime | None = None,
) -> Context:
    """An action context with the default adapters (the hard-limit role assumed only when an action needs it)."""
    role = os.environ.get(HARD_LIMIT_ROLE_ENV_VAR, "")

    def hard_limit_clients(service: str, region: str) -> Any:
        if "factory" not in assumed:
            assumed["factory"] = aws.assumed_clients(role)
        return assumed["factory"](service, region)

    assumed: dict[str, Any] = {}
    return Context(
        settings=settings,
        state=state,
        clients=aws.client,
        responder=ResponseUrlResponder(),
        groups=SlackGroupsApi(bot_token, base_url=slack_api) if bot_token else None,
        now=now or datetime.now(UTC),
        regions=tuple(regions_for(settings)),
        hard_limit_clients=hard_limit_clients if role else None,
    )
