"""Shared pieces of the settings model: the strict base, owner/team/channel types, size limits."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

SETTINGS_ENV_VAR = "COSTWARDEN_SETTINGS"
CONTEXT_KEY = "costwarden"
#: Lambda caps all environment variables of a function at 4 KB together; keep room for Powertools' own.
MAX_SETTINGS_ENV_BYTES = 3_000
#: At most this many problems are listed in one settings error (a generated directory can be wrong 1,000 times).
MAX_ERRORS_SHOWN = 20


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SLACK_ID = re.compile(r"[UWS][A-Z0-9]{6,20}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


def _owner(value: str) -> str:
    if len(value) > 254 or not (_EMAIL.fullmatch(value) or _SLACK_ID.fullmatch(value)):
        raise ValueError("an owner is an e-mail address, a Slack user id (U.../W...) or a Slack user group id (S...)")
    return value


def _team_name(value: str) -> str:
    if value != value.strip() or _CONTROL.search(value):
        raise ValueError("a team name is the `team` tag value: no surrounding blanks, no control characters")
    return value


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def matching(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    """A validator accepting a string that ``pattern`` matches whole, else refusing it with ``rule`` (what the value
    must look like): the one shape of the settings' format checks (regions, channels, Slack ids)."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(rule)
        return value

    return AfterValidator(check)


#: An AWS region name (``us-east-1``); a typo here would scan nothing and report nothing.
RegionName = Annotated[str, matching(_REGION, "a region is an AWS region name such as us-east-1 or eu-west-1")]
#: An owner: ``alice@example.com``, a Slack user id (``U024BE7LH``, ``W...``) or user group id (``S0614TZR7``).
Owner = Annotated[str, AfterValidator(_owner)]
#: A team, as its ``team`` tag value (AWS allows 256 characters in a tag value).
TeamName = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_team_name)]
#: A routing key of the webhook secret's ``channels`` object (usually the Slack channel's name, without ``#``).
_CHANNEL_RULE = "a channel key is 1-80 characters of a-z, 0-9, `.`, `_`, `-` (a Slack channel name, no `#`)"
ChannelName = Annotated[str, matching(_CHANNEL, _CHANNEL_RULE)]


class _Model(BaseModel):
    """Strict base: unknown keys are typos, and a typo in a guardrail's config must not pass silently."""

    # Each field's docstring is its description (pydantic reads it): the configuration reference in the README is
    # generated from these (``costwarden config-doc``), and a test fails for a field without one.
    # allow_inf_nan=False: an infinite threshold or budget would pass synth and then fail (or silently never fire)
    # in the functions; it is refused here, naming the key.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False)
