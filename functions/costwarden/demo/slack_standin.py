"""A local stand-in for Slack incoming webhooks, for the demo and the functional tests.

It listens on 127.0.0.1 only (never another interface), on a free port, and answers like real Slack webhooks
(shared/reference/REFERENCE_FACTS.md): HTTP 200 with the plain-text body ``ok``, or a plain-text error string with
the documented status (400 ``invalid_payload``, 403 ``action_prohibited``, 404 ``channel_not_found``, 410
``channel_is_archived``, 429 with ``Retry-After``, 500 ``rollup_error``). Every POST is recorded (path, headers,
decoded JSON body) in arrival order, including those it then answers with an error or too late.

Each path can be scripted with a queue of responses; once the queue is empty the path answers ``ok`` again::

    with SlackStandIn() as slack:
        slack.script("/hooks/team", StandInResponse.rate_limited(retry_after=1), StandInResponse())
        url = slack.url("/hooks/team")
        notifier.webhook_allowance = slack.allowance()  # the notifier posts to Slack's hosts only, unless allowed

Besides scripted answers it checks what real Slack would reject outright: a body that is not JSON
(``invalid_payload``), a message with neither ``text`` nor ``blocks`` (``no_text``) and a message over the Block Kit
limits it can see cheaply (more than 50 blocks, a header over 150 characters: ``invalid_blocks``).

With the Slack app on, it also plays Slack's part of a button press: ``button_press`` builds the signed
``block_actions`` request Slack sends to the app's endpoint, and the app's answer to the message's ``response_url``
(a path on this stand-in) is accepted and recorded like any other POST.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from costwarden.core.slack_urls import WebhookAllowance
from costwarden.interact.verify import signature

LOOPBACK = "127.0.0.1"
MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150


@dataclass(frozen=True)
class StandInResponse:
    """One scripted answer: status, plain-text body, headers, and an optional delay before answering."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> StandInResponse:
        return cls(429, "rate_limited", {"Retry-After": str(retry_after)})

    @classmethod
    def server_error(cls, status: int = 500) -> StandInResponse:
        return cls(status, "rollup_error")

    @classmethod
    def error(cls, code: str) -> StandInResponse:
        """A permanent Slack error string with the status the changelog documents for it."""
        return cls(_ERROR_STATUS.get(code, 400), code)

    @classmethod
    def slow(cls, seconds: float) -> StandInResponse:
        """Answer ``ok``, but only after ``seconds``: long enough and the client times out first."""
        return cls(delay_seconds=seconds)


#: Status per error string, as documented (REFERENCE_FACTS.md); others default to 400.
_ERROR_STATUS = {
    "invalid_payload": 400,
    "user_not_found": 400,
    "no_text": 400,
    "invalid_blocks": 400,
    "action_prohibited": 403,
    "posting_to_general_channel_denied": 403,
    "channel_not_found": 404,
    "channel_is_archived": 410,
    "no_service": 404,
    "rollup_error": 500,
}


@dataclass(frozen=True)
class ReceivedRequest:
    """One POST as it arrived, and what the stand-in answered."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw: str
    status: int
    answer: str


class SlackStandIn:
    """A threaded HTTP server on 127.0.0.1 behaving like Slack's incoming-webhook endpoint."""

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        self._scripts: dict[str, deque[StandInResponse]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: Web API stand-in (the Slack app, issue 13): user group id -> member ids, answered by
        #: ``usergroups.users.list`` to a request bearing ``bot_token``; other groups: ``no_such_subteam``.
        self.usergroups: dict[str, list[str]] = {}
        self.bot_token = "xoxb-standin-token"  # noqa: S105 - the stand-in's own test token
        self.api_calls: list[tuple[str, str]] = []
        self.people = PeopleStandIn()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> Self:
        server = ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="slack-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and scripting -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Slack stand-in is not running")
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def allowance(self) -> WebhookAllowance:
        """What lets the notifier post here: this stand-in's exact loopback origin, nothing wider (routing.py)."""
        return WebhookAllowance.loopback(self.base_url)

    def script(self, path: str, *responses: StandInResponse) -> None:
        """Queue answers for ``path``; each POST takes the next one, then plain ``ok`` when the queue is empty."""
        with self._lock:
            self._scripts[path].extend(responses)

    def posts_to(self, path: str) -> list[ReceivedRequest]:
        with self._lock:
            return [request for request in self.received if request.path == path]

    def accepted(self, path: str | None = None) -> list[ReceivedRequest]:
        """Requests answered 200 ``ok`` (the messages a channel would show), optionally for one path."""
        with self._lock:
            return [r for r in self.received if r.status == 200 and (path is None or r.path == path)]

    @property
    def api_url(self) -> str:
        """Base URL for the Web API stand-in (``WebClient(base_url=...)``)."""
        return self.url("/api/")

    def api_answer(self, path: str, authorization: str, form: str = "") -> dict[str, Any]:
        """A Web API call as Slack answers it: ``usergroups.users.list`` only (the app's one read); arguments in
        the query string (GET) or a form body (POST), as Slack accepts both."""
        url = urlsplit(path)
        method = url.path.removeprefix("/api/")
        query = parse_qs(url.query) | parse_qs(form)
        group = query.get("usergroup", [""])[0]
        with self._lock:
            self.api_calls.append((method, group))
        if authorization != f"Bearer {self.bot_token}":
            return {"ok": False, "error": "invalid_auth"}
        if method in PEOPLE_METHODS:
            return self.people.answer(method, query, form)
        if method != "usergroups.users.list":
            return {"ok": False, "error": "unknown_method"}
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[group])}

    # -- request handling ------------------------------------------------------------------------------------
    def _answer(self, path: str, raw: str) -> tuple[dict[str, Any] | None, StandInResponse]:
        with self._lock:
            queue = self._scripts.get(path)
            scripted = queue.popleft() if queue else None
        try:
            decoded = json.loads(raw)
            body: dict[str, Any] | None = decoded if isinstance(decoded, dict) else None
        except json.JSONDecodeError:
            body = None
        if scripted is not None:
            return body, scripted
        return body, _validate(body)

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.received.append(request)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


#: The Web API methods the notifier calls for people (issue 22), answered by ``PeopleStandIn``.
PEOPLE_METHODS = frozenset({"users.lookupByEmail", "conversations.open", "chat.postMessage"})


@dataclass
class PeopleStandIn:
    """The Slack workspace's members and the bot's direct messages, as the notifier sees them (issue 22).

    ``users`` maps an e-mail to a user id (``users.lookupByEmail``; others: ``users_not_found``);
    ``conversations.open`` opens ``D<user>`` for a known user id; ``chat.postMessage`` records the message in
    ``direct_messages`` (``{"user", "text", "blocks"}``). ``fail`` scripts an error string per method (e.g.
    ``{"users.lookupByEmail": "ratelimited"}``); ``calls`` counts the calls per method.
    """

    users: dict[str, str] = field(default_factory=dict)
    direct_messages: list[dict[str, Any]] = field(default_factory=list)
    fail: dict[str, str] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def answer(self, method: str, query: dict[str, list[str]], form: str) -> dict[str, Any]:
        self.calls[method] += 1
        if method in self.fail:
            return {"ok": False, "error": self.fail[method]}
        args = {key: values[0] for key, values in query.items() if values}
        if form.lstrip().startswith("{"):  # chat.postMessage sends JSON
            args |= json.loads(form)
        if method == "users.lookupByEmail":
            user = self.users.get(str(args.get("email", "")))
            return {"ok": True, "user": {"id": user}} if user else {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            user = str(args.get("users", ""))
            if user not in self.users.values() and not user.startswith(("U", "W")):
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": f"D{user}"}}
        channel = str(args.get("channel", ""))
        if not channel.startswith("D") or not (args.get("text") or args.get("blocks")):
            return {"ok": False, "error": "channel_not_found" if not channel.startswith("D") else "no_text"}
        blocks = args.get("blocks")
        self.direct_messages.append(
            {
                "user": channel[1:],
                "text": args.get("text", ""),
                "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
            }
        )
        return {"ok": True, "channel": channel, "ts": f"{len(self.direct_messages)}.000"}

    def to(self, user: str) -> list[dict[str, Any]]:
        """The direct messages ``user`` received, in order."""
        return [message for message in self.direct_messages if message["user"] == user]


def _validate(body: dict[str, Any] | None) -> StandInResponse:
    """What real Slack rejects without any scripting."""
    if body is None:
        return StandInResponse.error("invalid_payload")
    blocks = body.get("blocks")
    if not body.get("text") and not blocks:
        return StandInResponse.error("no_text")
    if blocks is not None:
        if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
            return StandInResponse.error("invalid_blocks")
        for block in blocks:
            if block.get("type") == "header" and len(block.get("text", {}).get("text", "")) > MAX_HEADER_CHARS:
                return StandInResponse.error("invalid_blocks")
    return StandInResponse()


def _make_handler(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        server_version = "SlackStandIn/1"
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            if self.path.startswith("/api/"):
                self._api(standin.api_answer(self.path, self.headers.get("Authorization", ""), raw))
                return
            body, response = standin._answer(self.path, raw)
            standin._record(
                ReceivedRequest(
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=body,
                    raw=raw,
                    status=response.status,
                    answer=response.body,
                )
            )
            if response.delay_seconds:
                standin._wait(response.delay_seconds)
            payload = response.body.encode("utf-8")
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing left to answer

        def do_GET(self) -> None:
            """The Web API (``/api/<method>?...``): JSON answers like Slack's."""
            self._api(standin.api_answer(self.path, self.headers.get("Authorization", "")))

        def _api(self, body: dict[str, Any]) -> None:
            answer = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log (it would print webhook paths)."""

    return _Handler


def wait_for(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll ``predicate()`` until it is truthy or ``timeout`` seconds pass (for requests still in flight)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def button_press(
    message: dict[str, Any],
    button: dict[str, Any],
    *,
    user: str,
    channel: str,
    response_url: str,
    signing_secret: bytes,
    timestamp: int,
) -> tuple[dict[str, str], bytes]:
    """Slack's side of a button press: the ``block_actions`` request Slack POSTs to the app's endpoint when ``user``
    presses ``button`` (an element of ``message``'s ``actions`` blocks) in ``channel``, form-encoded and signed
    with the app's signing secret (v0, as ``interact.verify`` checks). Returns ``(headers, body)``."""
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": "C0DEMO0001", "name": channel},
        "container": {"type": "message", "message_ts": f"{timestamp}.000100"},
        "response_url": response_url,
        "message": {"blocks": message.get("blocks", [])},
        "actions": [
            {
                "action_id": button.get("action_id", ""),
                "value": button.get("value", ""),
                "type": "button",
                "action_ts": f"{timestamp}.000200",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(timestamp)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature(signing_secret, stamp, body),
    }
    return headers, body
