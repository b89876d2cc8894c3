"""Who may press what (issues 13 and 23): a button works for the members of the team its *target* belongs to and for
on-call, and only in a channel that team's alerts are routed to. Everyone else is told why; the caller audits every
attempt.

**Every action calls ``authorize_target(ctx, interaction, *, target_team, oncall_only=False) -> Verdict``**, after
resolving ``target_team`` from what the target *is*, read fresh: a resource's own team tag (``core.owner.team_of``,
the configured ``tags.team_key``), an anomaly series' team (``series_team``, as the ledger keys it), the team a
``/costwarden plan`` names. The button's own team is a hint only (the app has ``incoming-webhook``: whoever holds one
of its webhook URLs can post a button of any value, and Slack signs the press genuinely): a hint that differs from
the target's team is refused, and the basis names both. The target's team must be a configured team (``teams``):
a resource of no known team has nobody to authorize against (fail closed).

Members of a team: the Slack user ids among its ``owners`` and ``slack.users``, plus the members of the user
groups among its ``owners`` and ``slack.groups``. On-call: ``interact.oncall_users`` and the members of
``interact.oncall_groups``. A group Slack cannot resolve counts as empty (fail closed), and the reason is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from costwarden.interact.payload import Interaction
from costwarden.models.ports import SlackGroups
from costwarden.settings import Settings, TeamSettings

_GROUP_PREFIX = "S"
#: The notifier's name of the on-call route (``notifier.routing.ONCALL_CHANNEL``; interact may not import the
#: notifier, a sibling capability — a test holds the two equal). On-call-only buttons are rendered there only.
ONCALL_ROUTE = "oncall"
#: What separates an anomaly series' team from its second key (``core.episodes.series_id``: ``team|second``).
SERIES_SEP = "|"


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


class Reach(Protocol):
    """What authorization reads from an action's context (``interact.actions.Context`` has both)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def groups(self) -> SlackGroups | None: ...


def series_team(series: str) -> str:
    """The team of an anomaly series id (``team|second``; a team tag value cannot hold ``|``, AWS refuses it)."""
    return series.partition(SERIES_SEP)[0]


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
    return _who(settings, user_id=user_id, team=team, groups=groups, oncall_only=oncall_only)


def _who(settings: Settings, *, user_id: str, team: str, groups: SlackGroups | None, oncall_only: bool) -> Verdict:
    """On-call, a member of ``team``, or neither (the channel already checked)."""
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


def authorize_target(ctx: Reach, interaction: Interaction, *, target_team: str, oncall_only: bool = False) -> Verdict:
    """May the presser act on a target that belongs to ``target_team`` (resolved by the caller, read fresh)?

    In order, the first that refuses decides: the button's team (a hint) must be ``target_team``; ``target_team``
    must be configured; the press must come from a channel ``target_team``'s alerts are routed to
    (``routed_channels``) — or, for on-call-only actions, from the on-call route's rendering (whose Slack name
    Costwarden does not know: the secret holds only its webhook; the presser must be on-call there anyway); then
    the presser must be on-call, or (not ``oncall_only``) a member of ``target_team``.
    """
    settings = ctx.settings
    hint = interaction.hinted_team
    if hint is not None and hint != target_team:
        return Verdict(False, f"the button names team {hint!r} but the target belongs to team {target_team!r}")
    if target_team not in settings.teams:
        return Verdict(False, f"the target's team {target_team!r} is not a configured team (teams.*)")
    channels = routed_channels(settings, target_team)
    rendered = interaction.rendered_channel
    from_oncall = oncall_only and rendered == ONCALL_ROUTE
    if interaction.channel_name not in channels and not from_oncall:
        where = ", ".join(sorted(channels)) or "no channel (teams.<team>.channel unset)"
        return Verdict(
            False, f"pressed in channel {interaction.channel_name!r}; team {target_team}'s alerts go to {where}"
        )
    return _who(settings, user_id=interaction.user_id, team=target_team, groups=ctx.groups, oncall_only=oncall_only)
