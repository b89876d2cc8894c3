"""Wiring for the notifier's people (issue 22): the bot token read from the Slack app's secret, the Slack adapter.

``people_for`` never raises: a missing or unreadable app secret, or a bot token that is not one, leaves Slack out
(``People.unavailable`` says why, without any value) and the channel post goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from costwarden.adapters.secrets import SecretError
from costwarden.adapters.slack_app import SLACK_API, SlackAppError
from costwarden.adapters.slack_web import SlackPeopleApi
from costwarden.models.ports import StateStore
from costwarden.notifier.people import People
from costwarden.services.interact import AppSecretError, app_secret
from costwarden.settings import Settings


def people_for(
    settings: Settings,
    store: StateStore,
    *,
    slack_api: str = SLACK_API,
    time_left: Callable[[], float] | None = None,
    now: datetime | None = None,
) -> People:
    """The invocation's ``People``: Slack through the app's bot token when the app is on (``interact.enabled``)."""
    slack: SlackPeopleApi | None = None
    why = "the Slack app is off (interact.enabled): no bot token to look up addresses or send direct messages"
    if settings.interact.enabled:
        try:
            _signing, token = app_secret(settings.interact.app_secret_name)
            if token:
                slack = SlackPeopleApi(token, base_url=slack_api)
            else:
                why = f"secret {settings.interact.app_secret_name!r} has no bot_token"
        except (SecretError, AppSecretError, SlackAppError) as error:  # their messages name no value
            why = str(error)
    return People(
        settings.notifier.people,
        settings.teams,
        store,
        slack,
        now or datetime.now(UTC),
        unavailable=why,
        time_left=time_left,
    )
