"""The notifier's Slack Web API calls with the Slack app's bot token (issue 22): find a person, message them.

``users.lookupByEmail`` (scope ``users:read.email``), ``conversations.open`` (``im:write``) and ``chat.postMessage``
(``chat:write``). The rules (who is asked, how often, what is cached) live in ``costwarden.notifier.people``; this
module only talks HTTP, with the Slack app adapter's short timeout.

The bot token is a credential, handled as the webhook URLs are: refused before anything is sent when it is not a
bot token (never echoed), never in a repr, an error message or a log line (slack_sdk gets a logger of its own at
WARNING behind the redacting filter: at DEBUG it logs each request's body, which holds the e-mail looked up and the
message). Errors name the API method and Slack's error string only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from costwarden.adapters.slack_app import SLACK_API, TIMEOUT_SECONDS, SlackAppError
from costwarden.redaction import RedactingFilter, redact

#: What a bot token looks like (``xoxb-`` then Slack's token characters). Anything else is refused unread.
BOT_TOKEN = re.compile(r"xoxb-[A-Za-z0-9-]{10,250}")
#: Slack's answer when no member has the address (an answer, not a failure: that person is not in Slack).
NOT_FOUND = "users_not_found"

SDK_LOGGER = logging.getLogger("costwarden.adapters.slack_web.sdk")
SDK_LOGGER.setLevel(logging.WARNING)
SDK_LOGGER.addFilter(RedactingFilter())


class SlackPeopleApi:
    """``SlackPeople`` (``costwarden.notifier.people``) on Slack's Web API with the bot token."""

    def __init__(self, token: str, base_url: str = SLACK_API) -> None:
        if not isinstance(token, str) or not BOT_TOKEN.fullmatch(token):
            raise SlackAppError("the Slack app secret's bot_token is not a bot token (xoxb-...)")
        self._client = WebClient(token=token, base_url=base_url, timeout=TIMEOUT_SECONDS, logger=SDK_LOGGER)

    def __repr__(self) -> str:
        return "SlackPeopleApi()"  # never the token

    def user_by_email(self, email: str) -> str | None:
        """The Slack user id of ``email``; None when Slack has no member with it (``users_not_found``)."""
        try:
            response = _call("users.lookupByEmail", lambda: self._client.users_lookupByEmail(email=email))
        except _NotFoundError:
            return None
        user = response.get("user") or {}
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, str) or not user_id:
            raise SlackAppError("users.lookupByEmail: the answer has no user id")
        return user_id

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        """Open (or reuse) the bot's direct conversation with ``user`` and post ``message`` (text and blocks) there."""
        opened = _call("conversations.open", lambda: self._client.conversations_open(users=user))
        channel = (opened.get("channel") or {}).get("id")
        if not isinstance(channel, str) or not channel:
            raise SlackAppError("conversations.open: the answer has no channel id")
        _call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel, text=message.get("text", ""), blocks=message.get("blocks")
            ),
        )


class _NotFoundError(Exception):
    """``users_not_found``: handled by ``user_by_email`` (internal)."""


def _call(method: str, request: Callable[[], Any]) -> Any:
    """Run one Web API request; raise ``SlackAppError`` naming ``method`` and Slack's error string, nothing else."""
    problem = ""
    try:
        return request()
    except SlackApiError as error:
        code = str(error.response.get("error", "failed"))
        if code == NOT_FOUND:
            raise _NotFoundError from None
        problem = redact(f"{method}: {code[:80]}")
    except Exception as error:  # transport errors: name the kind only (their text may quote the request)
        problem = f"{method}: {type(error).__name__}"
    raise SlackAppError(problem)
