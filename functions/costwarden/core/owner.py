"""Who owns what: the team of a resource (from its tags) and the operator team (the team that runs Costwarden).

Both read the *configured* team key (``settings.tags.team_key``) and nothing else. The rule was written four
times, and one copy read the literal ``"team"`` key: with ``tags.team_key: owner`` the organization's
reap-blocked alert went to ``platform`` while every other operator alert went to the owner. Here once:

* ``team_of(tags, policy)``: the tag value under ``policy.team_key``, stripped; ``unowned`` when missing or
  blank (the reaper, the idle finder, the advisor, the tag audit). The configured key, exactly, is the only key
  that owns: ``Team=nlp, team=""`` is unowned everywhere, and the tag audit reports ``Team`` as a violation (a
  duplicate in another spelling). Only when the configured key is absent altogether does the tag audit address
  the violation to the team a misspelt key names (``Team=nlp`` alone: nlp is told to rename it), which is who to
  tell, not who owns.
* ``operator_team(settings)``: alerts about the whole account (commitments, a blocked plan, the idle summary) go to
  the team Costwarden's own stack is tagged with (``settings.stack_tags[team_key]``), else ``platform``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from costwarden.settings import Settings, TagPolicy

#: The one label for "nobody owns this": resources without a team (reaper, idle, tag audit, advisor) and spend
#: without one (the cost frame, hence ``detect``, the monitor and the digest). One word, no space, no brackets: it is
#: a team name in dedup keys (``tag_violation#unowned#2026-W50``), Slack routes and the cost cache.
UNOWNED_TEAM = "unowned"
#: Labels used for the same thing before there was one (``no team``: tag audit; ``(untagged)``: cost frame and
#: digest). Records written under them (the daily cost cache, a CUR-derived CSV) are read as ``UNOWNED_TEAM``.
LEGACY_UNOWNED = frozenset({"no team", "(untagged)"})
DEFAULT_OPERATOR_TEAM = "platform"


def owner_label(value: str) -> str:
    """``value`` with a legacy "nobody owns this" label read as ``UNOWNED_TEAM`` (every other value as it is)."""
    return UNOWNED_TEAM if value in LEGACY_UNOWNED else value


def tag_team(tags: Mapping[str, Any], team_key: str) -> str | None:
    """The team under ``team_key`` in ``tags``, stripped; ``None`` when absent, blank or not a mapping."""
    if not isinstance(tags, Mapping):
        return None
    value = tags.get(team_key)
    if value is None:
        return None
    return str(value).strip() or None


def team_of(tags: Mapping[str, Any], policy: TagPolicy, *, unowned: str = UNOWNED_TEAM) -> str:
    """The owning team of a resource with ``tags``: the configured team tag, else ``unowned``."""
    return tag_team(tags, policy.team_key) or unowned


def operator_team(settings: Settings) -> str:
    """The team that runs Costwarden: its stack's own team tag (configured key), else ``platform``."""
    return team_of(settings.stack_tags, settings.tags, unowned=DEFAULT_OPERATOR_TEAM)


def first_team(tag_sets: Sequence[Mapping[str, Any]], policy: TagPolicy) -> str:
    """The team of the first tag set in ``tag_sets`` that names one (configured key), else ``unowned``.

    For a launch: the request's own tags (tag-on-create), then the caller's role tags. The same key and the same
    "blank is unowned" rule as ``team_of``; only the order of the places asked is the caller's.
    """
    for tags in tag_sets:
        team = tag_team(tags, policy.team_key)
        if team is not None:
            return team
    return UNOWNED_TEAM
