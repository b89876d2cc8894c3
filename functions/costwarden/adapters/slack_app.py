"""The Slack app's two outbound calls (issue 13): user-group members (Web API, bot token) and ``response_url``
posts. Small on purpose: the rules (which URL may be posted to, who counts as a member) live in
``costwarden.interact``; this module only talks HTTP, with short timeouts (the work runs after the 3 s ack, but a
hung Slack must not hold the function).

Nothing here logs a token or a URL: errors name the API method and Slack's error string only.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

SLACK_API = "https://slack.com/api/"
TIMEOUT_SECONDS = 3


class SlackAppError(RuntimeError):
    """A Slack call failed; the message holds the method and Slack's error string, never a token or URL."""


class SlackGroupsApi:
    """``SlackGroups`` through ``usergroups.users.list`` (scope ``usergroups:read``), cached per container."""

    def __init__(self, token: str, base_url: str = SLACK_API) -> None:
        self._client = WebClient(token=token, base_url=base_url, timeout=TIMEOUT_SECONDS)
        self._cache: dict[str, frozenset[str]] = {}

    def __repr__(self) -> str:
        return "SlackGroupsApi()"  # never the token

    def members(self, group_id: str) -> frozenset[str]:
        if group_id not in self._cache:
            try:
                response = self._client.usergroups_users_list(usergroup=group_id)
            except SlackApiError as error:
                raise SlackAppError(f"usergroups.users.list: {error.response.get('error', 'failed')}") from None
            except Exception as error:  # transport errors: name the kind only
                raise SlackAppError(f"usergroups.users.list: {type(error).__name__}") from None
            users = response.get("users") or []
            self._cache[group_id] = frozenset(str(u) for u in users)
        return self._cache[group_id]


class ResponseUrlResponder:
    """``SlackResponder``: POST a message to a ``response_url`` the logic has already checked."""

    def __init__(self) -> None:
        self.sent = 0

    def respond(self, response_url: str, message: dict[str, Any]) -> None:
        try:
            response = WebhookClient(response_url, timeout=TIMEOUT_SECONDS).send_dict(message)
        except Exception as error:  # never the URL
            raise SlackAppError(f"response_url post: {type(error).__name__}") from None
        if response.status_code != 200:
            raise SlackAppError(f"response_url post: HTTP {response.status_code} {(response.body or '')[:80]}")
        self.sent += 1
