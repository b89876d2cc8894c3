"""What to do about a finding: the check's sentence and commands, then "mark it as expected-idle" (same for all).

Each idle check (``costwarden.idle.checks``) suggests its own stop/delete/scale command; the "expected idle" command
is the same for every type (the tagging API), so an owner who means to keep a resource idle (a warm standby)
silences it with one tag: ``settings.idle.expected_idle_key=true``.
"""

from __future__ import annotations

from collections.abc import Sequence

from costwarden.resources.model import Resource
from costwarden.settings import Settings


def keep_command(resource: Resource, settings: Settings) -> str:
    return (
        f"aws resourcegroupstaggingapi tag-resources --region {resource.region} --resource-arn-list {resource.arn} "
        f"--tags {settings.idle.expected_idle_key}=true"
    )


def recommend(
    suggestion: tuple[str, Sequence[str]], resource: Resource, settings: Settings
) -> tuple[str, tuple[str, ...]]:
    """The check's ``(sentence, commands)`` with the expected-idle tag appended: always the last command."""
    text, commands = suggestion
    text += f"; if it is idle on purpose, tag it {settings.idle.expected_idle_key}=true"
    return text, (*commands, keep_command(resource, settings))
