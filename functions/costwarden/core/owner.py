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
* ``person_of(tags, policy)``: the resource's *person* (issue 22), from the first of ``policy.owner_keys``
  (``created_by``, ``owner``) that names one: a Slack user id, an e-mail address (lower-cased), or an STS
  assumed-role ARN whose session name is an e-mail (what SSO writes into ``created_by``). Anything else (a
  team name, ``<!channel>``, an IAM user ARN, 300 characters) names nobody: tag values are written by whoever can
  tag, so the rule is strict and never echoes a refused value. ``people_of`` groups resources by person: the
  ``details["people"]`` an alert carries for the notifier's direct messages.
* ``operator_team(settings)``: alerts about the whole account (commitments, a blocked plan, the idle summary) go to
  the team Costwarden's own stack is tagged with (``settings.stack_tags[team_key]``), else ``platform``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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
#: The alert details key holding ``{person: [resource, ...]}`` (``people_of``): who gets a direct message.
PEOPLE_DETAIL = "people"
#: A Slack user id (``U024BE7LH``; ``W...`` on Enterprise Grid), the same shape the settings accept.
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{6,20}")
#: An e-mail address as a tag can carry one: a conservative local part and a dotted host, 254 characters at most.
#: Narrower than RFC 5322 on purpose: no quotes, brackets, pipes or spaces can reach a Slack message or a log.
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")
_ASSUMED_ROLE = re.compile(r"arn:aws[a-z-]*:sts::\d{12}:assumed-role/[\w+=,.@-]{1,64}/(?P<session>[\w+=,.@-]{2,64})")
MAX_EMAIL_CHARS = 254


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


def person_value(value: Any) -> str | None:
    """``value`` as a person (a Slack user id, or an e-mail lower-cased), else None. See the module docstring."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    role = _ASSUMED_ROLE.fullmatch(text)
    if role is not None:
        text = role.group("session")
    if SLACK_USER_ID.fullmatch(text):
        return text
    if len(text) <= MAX_EMAIL_CHARS and EMAIL_ADDRESS.fullmatch(text):
        return text.lower()
    return None


def person_of(tags: Mapping[str, Any], policy: TagPolicy) -> str | None:
    """The person a resource with ``tags`` belongs to: the first ``policy.owner_keys`` value that names one."""
    if not isinstance(tags, Mapping):
        return None
    for key in policy.owner_keys:
        person = person_value(tags.get(key))
        if person is not None:
            return person
    return None


def people_of(resources: Iterable[tuple[Mapping[str, Any], str]], policy: TagPolicy) -> dict[str, list[str]]:
    """``{person: [label, ...]}`` for ``(tags, label)`` pairs, in first-seen order, each label once; resources
    without a person are left out (an empty dict: nobody to message)."""
    people: dict[str, list[str]] = {}
    for tags, label in resources:
        person = person_of(tags, policy)
        if person is not None and label not in people.setdefault(person, []):
            people[person].append(label)
    return people


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
