"""A progress line on stderr for long runs (reap, idle, tags audit, advise, the organization plan).

The 10,000-instance reaper bench ran 83 s and 387 s in silence. Once a run has lasted ``DELAY_SECONDS``, each new
region or account gets a line, and a request (a page of a listing) at most every ``INTERVAL_SECONDS``; nothing at
all when stderr is not a terminal (CI logs, ``2>file``), so scripts and the JSON on stdout are untouched. A helper
of our own rather than ``rich`` or ``tqdm``: plain lines, no new dependency in the Lambda bundle, and no live
display to fight the other lines the commands write on stderr.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterator
from typing import ParamSpec, TextIO, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

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


#: The run being watched: ``reap --accounts`` is watched as ``reap`` and its accounts are steps of that one run.
_active: list[Progress] = []


@contextlib.contextmanager
def watching(command: str, stream: TextIO | None = None) -> Iterator[Progress]:
    """For the block: a ``Progress`` told of every AWS request the run sends (the enclosing one, if any)."""
    from costwarden.adapters import aws

    if _active:
        yield _active[-1]
        return
    progress = Progress(command, stream)
    _active.append(progress)
    aws.ON_REQUEST.append(progress.request)
    try:
        yield progress
    finally:
        aws.ON_REQUEST.remove(progress.request)
        _active.remove(progress)


def watched(command: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A command function run ``watching(command)``."""

    def wrap(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with watching(command):
                return function(*args, **kwargs)

        return run

    return wrap
