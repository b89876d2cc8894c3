"""The one function that hides webhook URLs and tokens in text Costwarden logs or raises (issue 9).

A Slack incoming-webhook URL is a credential: whoever has it can post to the channel. It reaches text in ways no
single caller controls — urllib echoes the path of a URL it refuses (``URL can't contain control characters.
'/services/T…/B…/…  '``), slack_sdk logs the URL it posts to, botocore logs a secret's value, a user pastes a URL
where a key or a name belongs. So every path that turns something into text we show — the notifier's log fields,
``SlackError``/``DeliveryError``, slack_sdk's logger (``RedactingFilter``), the secrets adapter, settings and
webhook-secret errors — passes it through ``redact``; nobody writes a second, slightly different pattern.

What is hidden (replaced by ``<redacted>``):

* the path, query and fragment of any URL with a scheme, and its ``user:password@`` part — the host stays, so an
  error still says *which* service (``https://hooks.slack.com/<redacted>``), and a URL that is only a host
  (``http://127.0.0.1:5000/``) is left as it is;
* a Slack webhook path without a scheme: ``hooks.slack.com/…``, ``hooks.slack-gov.com/…``,
  ``services/…/…``, ``workflows/…/…``, ``triggers/…/…``, ``T0123/B0456/…``;
* Slack tokens (``xoxb-…``, ``xoxp-…``, ``xapp-…``).

A run of URL characters ends only at a space, a quote or an angle bracket — not at a control character — so a token
split by a pasted control character (``…/s3cr3t\\x07TOKEN``) is hidden whole. Redacting too much is harmless here;
redacting too little is a leak. ``redact(redact(x)) == redact(x)``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "<redacted>"

#: Characters that continue a URL or path once it started: anything but a space, a quote or an angle bracket (tabs,
#: line breaks and other control characters included: they may sit inside a pasted token).
_PASTED_RUN = r"""[^ "'<>]"""

_SCHEME_URL = re.compile(
    rf"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^/?#\s\"'<>@]*@)?(?P<host>[^/?#\s\"'<>@]*)"
    rf"(?P<rest>{_PASTED_RUN}*)"
)
_SLACK_HOST_PATH = re.compile(rf"(?P<host>\bhooks\.slack(?:-gov)?\.com(?::\d+)?)/(?P<rest>{_PASTED_RUN}+)", re.I)
_WEBHOOK_PATH = re.compile(
    rf"/?\b(?:services|workflows|triggers)/[^\s/\"'<>]+/{_PASTED_RUN}*"
    rf"|\b[TE][A-Z0-9]{{6,}}/[ABW][A-Z0-9]{{6,}}/{_PASTED_RUN}+"
)
_SLACK_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9\-]+")


def _url(match: re.Match[str]) -> str:
    user = f"{REDACTED}@" if match["user"] else ""
    rest = match["rest"] if match["rest"] in ("", "/") else f"/{REDACTED}"
    return f"{match['scheme']}{user}{match['host']}{rest}"


def redact(text: str) -> str:
    """``text`` with every webhook URL path, scheme-less webhook path and Slack token replaced by ``<redacted>``."""
    text = _SCHEME_URL.sub(_url, text)
    text = _SLACK_HOST_PATH.sub(lambda m: f"{m['host']}/{REDACTED}", text)
    text = _WEBHOOK_PATH.sub(REDACTED, text)
    return _SLACK_TOKEN.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    """``redact`` for a log record's extra field: strings redacted, containers walked, anything else as it is."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(key): redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


#: Attributes every LogRecord has; anything else on a record came from ``extra=`` and is redacted too.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """A logging filter applying ``redact`` to a record's message (arguments merged in) and its ``extra`` fields.

    Attached to the logger slack_sdk is given (``costwarden.notifier.slack.SDK_LOGGER``): slack_sdk formats URLs and
    urllib's errors into its messages before we ever see them, so the record itself has to be cleaned.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, redact_value(value))
        return True
