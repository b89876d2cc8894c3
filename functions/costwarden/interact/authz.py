"""Who may press what (issue 13): a button on team X's alert works for X's members and on-call only, and only in a
channel the alert was routed to. Everyone else is told "not yours"; the caller audits every attempt.

Members of a team: the Slack user ids among its ``owners`` and ``slack.users``, plus the members of the user
groups among its ``owners`` and ``slack.groups``. On-call: ``interact.oncall_users`` and the members of
``interact.oncall_groups``. A group Slack cannot resolve counts as empty (fail closed), and the reason is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from costwarden.models.ports import SlackGroups
from costwarden.settings import Settings, TeamSettings

_GROUP_PREFIX = "S"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: ``member``, ``oncall`` or why not (for the audit; the user sees a short "not yours").
    basis: str


def _ids(team: TeamSettings) -> tuple[set[str], set[str]]:
    slack_owners = [o for o in team.owners if "@" not in o]
    users = {o for o in slack_owners if not o.startswith(_GROUP_PREFIX)} | set(team.slack.users)
    groups = {o for o in slack_owners if o.startswith(_GROUP_PREFIX)} | set(team.slack.groups)
    return users, groups


def _in_groups(user_id: str, groups: set[str], directory: SlackGroups | None, problems: list[str]) -> bool:
    for group in sorted(groups):
        if directory is None:
            problems.append(f"group {group} not resolved (no bot token)")
            continue
        try:
            if user_id in directory.members(group):
                return True
        except Exception as error:  # unknown means "no"; the reason goes to the audit
            problems.append(f"group {group} not resolved ({type(error).__name__})")
    return False


def routed_channels(settings: Settings, team: str) -> set[str]:
    """Channel keys an alert of ``team`` may have been routed to: its directory channel when it has one."""
    entry = settings.teams.get(team)
    return {entry.channel} if entry is not None and entry.channel else set()


def authorize(
    settings: Settings,
    *,
    user_id: str,
    team: str,
    routed_channel: str,
    channel_name: str,
    groups: SlackGroups | None,
    oncall_only: bool = False,
) -> Verdict:
    """May ``user_id`` act on ``team``'s alert shown in ``channel_name`` (routed to ``routed_channel``)?

    ``oncall_only``: actions with the widest blast radius (the hard limit) are on-call's alone.
    """
    if not routed_channel or channel_name != routed_channel:
        return Verdict(False, f"pressed in channel {channel_name!r}, the alert was routed to {routed_channel!r}")
    problems: list[str] = []
    if user_id in settings.interact.oncall_users or _in_groups(
        user_id, set(settings.interact.oncall_groups), groups, problems
    ):
        return Verdict(True, "oncall")
    if oncall_only:
        return Verdict(False, "on-call only" + (f"; {'; '.join(problems)}" if problems else ""))
    entry = settings.teams.get(team)
    if entry is not None:
        users, team_groups = _ids(entry)
        if user_id in users or _in_groups(user_id, team_groups, groups, problems):
            return Verdict(True, "member")
    return Verdict(False, f"not a member of {team} nor on-call" + (f"; {'; '.join(problems)}" if problems else ""))
