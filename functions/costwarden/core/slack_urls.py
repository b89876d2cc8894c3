"""Slack's webhook and response URLs: which hosts and origins Costwarden may ever post to (one rule, shared by the
notifier, which posts alerts to webhooks, and the Slack endpoint, which answers on ``response_url``).

A forged URL would turn either function into a request relay; the rule is here once so both refuse the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

#: Where Slack serves incoming webhooks (commercial and GovSlack).
SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
#: Incoming webhooks (``/services/T…/B…/…``), Workflow Builder webhooks (``/workflows/…``) and triggers
#: (``/triggers/…``): two or more plain segments after the kind, nothing else (no ``..``, query or fragment).
SLACK_PATH = re.compile(r"/(?:services|workflows|triggers)(?:/[A-Za-z0-9_\-]+){2,}")
#: A webhook URL is printable ASCII without spaces. Anything else — a comment or a line break pasted with it, a
#: no-break space from a chat client, a control character — is refused before urllib can echo it in an error.
_URL_CHARACTERS = re.compile(r"[\x21-\x7e]+")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UNSAFE_VALUE = "has whitespace, control or non-ASCII characters (a comment or a line break pasted with the URL?)"


class WebhookConfigError(ValueError):
    """The webhook secret has the wrong shape. The message names keys by position, never a key's or a URL's text."""


def has_unsafe_characters(url: str) -> bool:
    """True when ``url`` holds anything but printable ASCII without spaces (the rule ``post_message`` checks too)."""
    return _URL_CHARACTERS.fullmatch(url) is None


def _split(value: str) -> tuple[SplitResult | None, int | None]:
    """``value`` split, and its port; ``(None, None)`` when urllib cannot parse it."""
    try:
        parts = urlsplit(value)
        return parts, parts.port
    except ValueError:
        return None, None


def _is_loopback_origin(parts: SplitResult, port: int | None) -> bool:
    """``http(s)://<loopback host>:<port>`` and nothing more (no user, path, query or fragment)."""
    bare = "@" not in parts.netloc and parts.path in ("", "/") and not parts.query and not parts.fragment
    return bare and parts.scheme in ("http", "https") and port is not None and parts.hostname in _LOOPBACK_HOSTS


def _origin(parts: SplitResult) -> str:
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class WebhookAllowance:
    """Origins besides Slack's that webhooks may name: the local Slack stand-in of the tests and the demo.

    Explicit and narrow on purpose. It is granted in code by whoever starts a stand-in (the demo runner, a test
    fixture: ``handlers.notifier.webhook_allowance``), never by configuration, so no secret or environment of a
    deployed notifier can turn it on; and it holds exact loopback origins only (scheme, host and port), so even
    then it cannot point the notifier at another machine or another port.
    """

    origins: frozenset[str] = frozenset()

    @classmethod
    def loopback(cls, *base_urls: str) -> WebhookAllowance:
        """Allow these ``http(s)://<loopback host>:<port>`` origins (``SlackStandIn.base_url``); nothing else."""
        origins = set()
        for base_url in base_urls:
            parts, port = _split(base_url)
            if parts is None or not _is_loopback_origin(parts, port):
                raise ValueError("a webhook allowance is for exact loopback origins only (e.g. http://127.0.0.1:8080)")
            origins.add(_origin(parts))
        return cls(frozenset(origins))

    def allows(self, parts: SplitResult) -> bool:
        return _origin(parts) in self.origins
