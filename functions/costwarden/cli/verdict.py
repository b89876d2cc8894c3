"""A read that failed is never a clean result: the one way commands end when a source could not be read.

"nothing carries expires_at" after a failed listing is reassuring silence. Every account-reading command that
collected source errors prints, on stdout where the verdict is, that the result is partial and which sources could
not be read, and exits ``EXIT_COULD_NOT_RUN`` (3) — distinct from "found something" (1) and "bad input" (2).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from costwarden.cli.main import EXIT_COULD_NOT_RUN, EXIT_FOUND, EXIT_OK

#: Sources listed by name on stdout before the rest are counted.
SHOWN = 5


def clean_or_partial(nothing: str, problems: Sequence[str]) -> str:
    """The line for an empty result: ``nothing`` when every source was read, a partial notice otherwise."""
    return nothing if not problems else "nothing found in what could be read"


def say_partial(command: str, problems: Sequence[str], out: TextIO | None = None) -> None:
    """On stdout (table output): the result is partial, and what could not be read (first ``SHOWN``)."""
    if not problems:
        return
    stream = out or sys.stdout
    print(
        f"INCOMPLETE: costwarden {command} could not read {len(problems)} source(s); the result above is partial:",
        file=stream,
    )
    for problem in problems[:SHOWN]:
        print(f"  - {problem}", file=stream)
    if len(problems) > SHOWN:
        print(f"  ... and {len(problems) - SHOWN} more (stderr lists every one)", file=stream)


def exit_code(*, found: bool, problems: Sequence[str]) -> int:
    """3 when a source could not be read (whatever was found), else 1 when something was found, else 0."""
    if problems:
        return EXIT_COULD_NOT_RUN
    return EXIT_FOUND if found else EXIT_OK
