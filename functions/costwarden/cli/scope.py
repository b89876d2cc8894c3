"""Options that select *where* a command acts: one parser each, shared by every command.

A blank or ambiguous scope is an error, never the default scope: ``--accounts ''`` (an unset shell variable) must not
fall back to the current account, ``--regions ' , '`` must not fall back to the settings' regions, and ``plan ' nlp'``
must not silently match no team. Each function raises ``CliError`` (exit 2, bad input) before anything is read or
changed; ``None`` (the option not given) is the only way to ask for the default scope.
"""

from __future__ import annotations

import re

from costwarden.cli.main import CliError

#: An AWS region name (``us-east-1``, ``eu-central-2``, ``us-gov-west-1``).
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def regions(raw: str | None, option: str = "--regions") -> list[str] | None:
    """``--regions a,b`` -> the regions (each a region name, no blanks between commas); not given -> None."""
    if raw is None:
        return None
    parts = [part.strip() for part in raw.split(",")]
    bad = [part for part in parts if not REGION_RE.match(part)]
    if bad or not parts:
        shown = ", ".join(part for part in bad if part) or repr(raw)
        raise CliError(f"{option}: {shown} is not a region name (e.g. us-east-1,eu-west-1; no blanks)")
    return list(dict.fromkeys(parts))


def team(raw: str, option: str = "team") -> str:
    """A team as its tag value: never blank, no surrounding blanks (they would silently match no team)."""
    if not raw.strip():
        raise CliError(f"{option}: blank team name")
    if raw != raw.strip() or _CONTROL.search(raw):
        raise CliError(f"{option}: {raw!r} has surrounding blanks or control characters; a team is its tag value")
    return raw
