"""Schedules, the notifier (where alerts go) and the optional Slack app."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from costwarden.settings._base import _Model, matching


class ScheduleSettings(_Model):
    """When each function runs (UTC). Cost Explorer updates a few times a day; morning UTC suits most teams."""

    cost_monitor_hour_utc: int = Field(8, ge=0, le=23)
    """Hour (UTC) of the daily cost monitor run; the daily digest is sent at the end of that run."""
    reaper_rate_minutes: int = Field(60, ge=5, le=1440)
    """Minutes between reaper runs."""
    tag_audit_weekday: Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] = "MON"
    """Day of the week of the tag audit."""
    tag_audit_hour_utc: int = Field(7, ge=0, le=23)
    """Hour (UTC) of the weekly tag audit."""


class PeopleSettings(_Model):
    """People, not only channels (issue 22): owners named on critical alerts, a resource's person told directly.

    Slack ids need nothing more; e-mail addresses are resolved with `users.lookupByEmail` and direct messages sent
    with the Slack app's bot token (`interact.enabled`, scopes `users:read.email`, `im:write`, `chat:write`).
    Without the token, only Slack-id owners are mentioned and nobody is messaged; a failed lookup never holds up the
    channel post."""

    mentions: bool = True
    """Mention the team's `owners` (`<@U...>`, user groups as `<!subteam^S...>`) on its critical alerts, in the
    team's channel."""
    direct_messages: bool = True
    """Send the resource's person (`tags.owner_keys`) a direct message for expiry warnings, idle findings and reaps
    of their resources (needs the Slack app's bot token)."""
    max_direct_messages_per_day: int = Field(10, ge=1, le=200)
    """Most direct messages one person gets from Costwarden per UTC day; the rest are counted in the log, never
    sent (the channel still has them)."""
    lookup_cache_days: float = Field(7.0, gt=0, le=90)
    """Days an e-mail's Slack user id (from `users.lookupByEmail`) is kept in the state table before it is looked up
    again; an address Slack does not know is asked again after a day."""


class NotifierSettings(_Model):
    """Where alerts go: Slack webhooks held in a Secrets Manager secret, referenced by name only."""

    slack_secret_name: str = "costwarden/slack-webhooks"  # noqa: S105 - a name, not a secret
    """Name of the Secrets Manager secret holding the Slack webhook URLs (the URLs never appear in the template)."""
    operator_email: str | None = None
    """E-mail subscribed to the operator topic (alarms about Costwarden itself; confirm the mail); `null` for none."""
    per_team_digest: bool = False
    """Also send each team its own digest, next to the fleet-wide one."""
    digest_top_n: int = Field(15, ge=1, le=40)
    """Teams listed by name in the digest's table (largest month-to-date spend first); the rest are counted as "and M
    more"."""
    people: PeopleSettings = PeopleSettings()
    """Mentions of owners and direct messages to a resource's person (opt out per team with `teams.<team>.people`)."""

    @field_validator("operator_email")
    @classmethod
    def _an_email_address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("must be an e-mail address (name@example.com)")
        return value

    @field_validator("slack_secret_name")
    @classmethod
    def _name_not_url(cls, value: str) -> str:
        if value.startswith(("http://", "https://")):
            raise ValueError("give the secret's name, never a webhook URL (the URL must not be in the template)")
        return value


_SLACK_USER = re.compile(r"[UW][A-Z0-9]{6,20}")
_SLACK_GROUP = re.compile(r"S[A-Z0-9]{6,20}")


#: A Slack user id (``U024BE7LH`` or, on Enterprise Grid, ``W...``).
SlackUser = Annotated[str, matching(_SLACK_USER, "a Slack user id is U... or W... (upper-case letters and digits)")]
#: A Slack user group id (``S0614TZR7``); its members are read with ``usergroups.users.list``.
SlackGroup = Annotated[str, matching(_SLACK_GROUP, "a Slack user group id is S... (upper-case letters and digits)")]


class TeamSlackSettings(_Model):
    """Who may press a button on this team's alerts, and where (issue 13). The team's `owners` that are Slack user
    or group ids count too; these fields add members who are not owners."""

    users: tuple[SlackUser, ...] = ()
    """Slack user ids (`U...`/`W...`) who may act on the team's alerts besides the Slack ids in `owners`."""
    groups: tuple[SlackGroup, ...] = ()
    """Slack user group ids (`S...`) whose members may act on the team's alerts (resolved with the bot token)."""
    launch_roles: tuple[str, ...] = ()
    """IAM role names the team launches resources with: the hard limit attaches its deny-launch policy to them."""


class InteractSettings(_Model):
    """The Slack app (optional): buttons on alerts and the `/costwarden` slash command. Webhooks work without it."""

    enabled: bool = False
    """Render action buttons on alerts and deploy the interactivity endpoint. Off: plain webhook messages."""
    app_secret_name: str = "costwarden/slack-app"  # noqa: S105 - a name, not a secret
    """Name of the Secrets Manager secret holding the app's `signing_secret` and `bot_token` (JSON); never the
    values themselves."""
    oncall_users: tuple[SlackUser, ...] = ()
    """Slack user ids of the on-call engineers: they may act on every team's alerts."""
    oncall_groups: tuple[SlackGroup, ...] = ()
    """Slack user group ids of on-call: their members may act on every team's alerts."""
    max_request_age_seconds: int = Field(300, ge=30, le=300)
    """Requests signed longer ago than this are refused (Slack's replay window: at most 5 minutes)."""
    reserved_concurrency: int | None = Field(None, ge=1, le=100)
    """Reserved concurrency of the interactivity function, opt-in: the endpoint's throttle (a flood of forged
    requests cannot starve the account's other functions, nor run up cost). `null` (default): none reserved. A new
    account's concurrency quota can be as low as 10, and Lambda keeps 10 unreserved, so any reservation there fails
    the deploy; raise the quota (Service Quotas, "Concurrent executions") before you set one."""

    @field_validator("app_secret_name")
    @classmethod
    def _a_name(cls, value: str) -> str:
        if value.startswith(("http://", "https://", "xox")) or not re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", value):
            raise ValueError("give the secret's name (letters, digits, /_+=.@-), never a token or URL")
        return value
