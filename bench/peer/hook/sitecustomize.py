"""Counts every HTTP request botocore sends, by ``service.Operation``, in whichever process starts with this folder on
``PYTHONPATH`` (both tools of the peer benchmark: the same hook, so both are counted the same way).

Python imports ``sitecustomize`` at start-up. When ``PEER_COUNT_OUT`` names a file, every botocore client created
afterwards gets a ``before-send`` handler (one per HTTP attempt, retries included) and the counts are written there
as JSON when the process exits. ``PEER_READ_TIMEOUT`` (seconds), when set, raises every client's read timeout
(botocore's default is 60 s; the simulator takes ~30 s to serialise 5,000 instances in one ``DescribeInstances``
page), the same in both processes. Without ``PEER_COUNT_OUT`` nothing is imported or changed. A failure here must never
change what the tool under test does: it is reported on stderr and the process goes on uncounted.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from collections import Counter
from typing import Any

COUNTS: Counter[str] = Counter()
_LOCK = threading.Lock()
_MARK = "peer_counted"


def count(event_name: str = "", **_: Any) -> None:
    """``before-send.ec2.DescribeInstances`` → ``ec2.DescribeInstances`` += 1."""
    parts = event_name.split(".")
    key = ".".join(parts[1:]) if len(parts) > 2 else event_name
    with _LOCK:
        COUNTS[key] += 1


def attach(client: Any) -> Any:
    """Register the counter on one client's event system, once (``unique_id``)."""
    client.meta.events.register("before-send", count, unique_id=_MARK)
    return client


def install() -> None:
    """Wrap ``botocore.session.Session.create_client`` so every client, in every session, counts its requests."""
    import botocore.session

    original = botocore.session.Session.create_client
    if getattr(original, _MARK, False):
        return

    timeout = float(os.environ.get("PEER_READ_TIMEOUT", "0") or 0)

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        if timeout:
            from botocore.config import Config

            given = kwargs.get("config")
            kwargs["config"] = given.merge(Config(read_timeout=timeout)) if given else Config(read_timeout=timeout)
        return attach(original(self, *args, **kwargs))

    setattr(create_client, _MARK, True)
    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


def write(path: str) -> None:
    """The counts as JSON (``{"requests": {"ec2.DescribeInstances": 3}}``); an unwritable path is said, not raised."""
    try:
        with open(path, "w", encoding="utf-8") as out:  # noqa: PTH123 - start-up hook: no pathlib import needed
            json.dump({"requests": dict(sorted(COUNTS.items()))}, out)
    except OSError as error:
        print(f"peer request counter: cannot write {path}: {error}", file=sys.stderr)


def _start() -> None:
    path = os.environ.get("PEER_COUNT_OUT", "")
    if not path:
        return
    try:
        install()
    except Exception as error:
        print(f"peer request counter: not installed ({type(error).__name__}: {error})", file=sys.stderr)
        return
    atexit.register(write, path)


_start()
