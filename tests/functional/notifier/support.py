"""Shared helpers of the notifier functional tests: sample events, the SNS envelope, the test world."""

from __future__ import annotations

import io
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from costwarden.demo.slack_standin import LOOPBACK, SlackStandIn, StandInResponse
from costwarden.handlers.observability import logger as function_logger
from costwarden.models.alert import AlertEvent

from tests.support.alerts import alert_event

TABLE = "costwarden-state-test"
SECRET = "costwarden/slack-webhooks-test"
TOPIC = "arn:aws:sns:us-east-1:123456789012:costwarden-alerts"
PATHS = {
    "default": "/services/T000/BDEFAULT/s3cr3tDefaultToken",
    "oncall": "/services/T000/BONCALL/s3cr3tOncallToken",
    "team:vision": "/services/T000/BVISION/s3cr3tVisionToken",
}


#: The sample event the notifier tests send: the shared test builder's cost anomaly for ``vision``.
make_event = alert_event


def sns_event(alert: AlertEvent, message_id: str = "95df01b4-ee98-5cb9-9903-4c221d41eb5e") -> dict[str, Any]:
    """The SNS -> Lambda envelope, as in events/notifier/."""
    attributes = {
        "kind": {"Type": "String", "Value": alert.kind.value},
        "severity": {"Type": "String", "Value": alert.severity.value},
        "team": {"Type": "String", "Value": alert.team},
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": TOPIC,
                    "Subject": f"[{alert.severity.value.upper()}] {alert.title}"[:99],
                    "Message": alert.to_json(),
                    "Timestamp": "2026-11-26T08:00:13.456Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


@contextmanager
def function_log_at_debug() -> Iterator[io.StringIO]:
    """The Powertools logger's JSON output, at DEBUG, into a buffer (it writes to the stdout it saw at import);
    its stream and level are restored after."""
    handler = function_logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)
    previous_level = function_logger.log_level
    function_logger.setLevel("DEBUG")
    try:
        yield buffer
    finally:
        function_logger.setLevel(previous_level)
        handler.setStream(previous_stream)


def script_every_failure(slack: SlackStandIn) -> None:
    """Every failure path that logs: vision answers 429, then 500, then too slowly, then ok; on-call answers with a
    permanent error, so the invocation raises ``DeliveryError`` after vision's post."""
    slack.script(
        PATHS["team:vision"],
        StandInResponse.rate_limited(retry_after=1),
        StandInResponse.server_error(500),
        StandInResponse.slow(2.0),
    )
    slack.script(PATHS["oncall"], StandInResponse.error("invalid_payload"))


@dataclass
class Sleeps:
    """Stands in for time.sleep in the retry handlers: records the waits slack_sdk's retry loop asked for."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class SteppingClock:
    """Monotonic seconds that advance ``step`` on every read: time passes with each socket read, not with sleeps."""

    def __init__(self, step: float = 1.0) -> None:
        self.now = 1000.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


@dataclass
class NotifierWorld:
    slack: SlackStandIn
    sleeps: Sleeps
    secret: dict[str, Any]
    invoke: Callable[..., dict[str, Any]]

    def url(self, channel: str) -> str:
        return self.slack.url(PATHS[channel])


class LoopbackServer:
    """A server on 127.0.0.1 in a daemon thread: it hands each connection to ``_handle`` (and closes it after),
    serves ``max_connections`` connections and then stops by itself; ``stop()``, or leaving the ``with``, ends it
    early. Subclasses say what a connection gets."""

    thread_name = "loopback-server"

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._stop = threading.Event()
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self._listener.getsockname()[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        served = 0
        while served < self.max_connections and not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            served += 1
            with connection:
                self._handle(connection)

    def _handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    @staticmethod
    def _read_head(connection: socket.socket, size: int) -> tuple[bytes, bool]:
        """Read until the blank line ending an HTTP head: what arrived, and whether the head arrived whole."""
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(size)
            if not chunk:
                return received, False
            received += chunk
        return received, True


class DripServer(LoopbackServer):
    """An HTTP server on 127.0.0.1 that answers one byte at a time: the slow webhook a socket timeout never catches.

    Each connection's request is read whole, then the answer (``ok`` with a ``Content-Length`` far beyond what it
    sends, so it never completes) is written ``interval`` seconds per byte, ``max_bytes`` at most, then the
    connection is closed. ``drip_headers`` drips from the status line on; otherwise the headers arrive at once and
    the body drips. It serves ``max_connections`` connections and then stops by itself (bounded, whatever the
    client does); ``stop()`` ends it early. ``requests`` counts the requests it read in full.
    """

    thread_name = "drip-server"

    def __init__(
        self, *, interval: float = 0.01, max_bytes: int = 400, max_connections: int = 4, drip_headers: bool = True
    ) -> None:
        super().__init__(max_connections)
        self.interval = interval
        self.max_bytes = max_bytes
        self.drip_headers = drip_headers
        self.requests = 0
        self.bytes_sent = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def _handle(self, connection: socket.socket) -> None:
        connection.settimeout(2)
        try:
            received, whole = self._read_head(connection, 65536)
            if not whole:
                return
            head, _, body = received.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                body += chunk
            self.requests += 1
            headers = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
            if not self.drip_headers:
                connection.sendall(headers)
            dripped = (headers if self.drip_headers else b"") + b"o" * self.max_bytes
            for byte in dripped[: self.max_bytes]:
                if self._stop.wait(self.interval):
                    return
                connection.sendall(bytes([byte]))
                self.bytes_sent += 1
        except OSError:
            return  # the client gave up: that is what the tests want to see


class ConnectProxy(LoopbackServer):
    """A forward proxy on 127.0.0.1 that serves ``CONNECT`` only, sending every tunnel to ``target_port`` here.

    Records each ``CONNECT`` line and its ``Proxy-Authorization`` header; serves ``max_connections`` then stops.
    """

    thread_name = "connect-proxy"

    def __init__(self, target_port: int, max_connections: int = 2) -> None:
        super().__init__(max_connections)
        self.target_port = target_port
        self.connects: list[tuple[str, str | None]] = []

    @property
    def url(self) -> str:
        return self.base_url

    def _handle(self, client: socket.socket) -> None:
        with socket.create_connection((LOOPBACK, self.target_port), timeout=5) as upstream:
            client.settimeout(5)
            head, _ = self._read_head(client, 4096)
            lines = head.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
            auth = next(
                (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("proxy-authorization:")),
                None,
            )
            self.connects.append((lines[0], auth))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(client, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        def pump(source: socket.socket, sink: socket.socket) -> None:
            try:
                while chunk := source.recv(65536):
                    sink.sendall(chunk)
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                return

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(timeout=5)
