"""A progress line on stderr for long runs (reap, idle, tags audit, advise, the organization plan).

The 10,000-instance reaper bench ran 83 s and 387 s in silence. Once a run has lasted ``DELAY_SECONDS``, each new
region or account gets a line, and a request (a page of a listing) at most every ``INTERVAL_SECONDS``; nothing at
all when stderr is not a terminal (CI logs, ``2>file``), so scripts and the JSON on stdout are untouched. A helper
of our own rather than ``rich`` or ``tqdm``: plain lines, no new dependency in the Lambda bundle, and no live
display to fight the other lines the commands write on stderr.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

DELAY_SECONDS = 3.0
INTERVAL_SECONDS = 1.0


class Progress:
    """``step(where, what)``: one line per new ``where`` (a region, an account), throttled within one."""

    def __init__(self, command: str, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.command = command
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.clock = clock
        self.started = clock()
        self.where = ""
        self.last = float("-inf")
        self.requests = 0

    def step(self, where: str, what: str = "") -> None:
        self.requests += 1
        now = self.clock()
        elapsed = now - self.started
        if not self.enabled or elapsed < DELAY_SECONDS or (where == self.where and now - self.last < INTERVAL_SECONDS):
            return
        self.where, self.last = where, now
        detail = f": {what}" if what else ""
        print(f"costwarden {self.command}: {elapsed:.0f} s, {where}{detail}", file=self.stream, flush=True)

    def request(self, service: str, region: str, operation: str) -> None:
        """An AWS request sent (``adapters.aws.ON_REQUEST``): one page of a listing, in ``region``."""
        self.step(region or "global", f"{service} {operation} (request {self.requests + 1})")


@contextlib.contextmanager
def watching(command: str, stream: TextIO | None = None) -> Iterator[Progress]:
    """For the block: a ``Progress`` told of every AWS request the run sends."""
    from costwarden.adapters import aws

    progress = Progress(command, stream)
    aws.ON_REQUEST.append(progress.request)
    try:
        yield progress
    finally:
        aws.ON_REQUEST.remove(progress.request)
