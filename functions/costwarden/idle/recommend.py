"""What to do about a finding: the check's sentence and commands, then "mark it as expected-idle" (same for all).

Each idle check (``costwarden.idle.checks``) suggests its own stop/delete/scale command; the "expected idle" command
is the same for every type (the tagging API), so an owner who means to keep a resource idle (a warm standby)
silences it with one tag: ``settings.idle.expected_idle_key=true``.

No suggested command acts on a resource the action path would refuse on its tags: a production resource
(``environment=production``, whatever ``reaper.allow_production`` says: a command pasted from a Slack message has no
dry run) or a protected one (the protect tag). For those the check's commands and sentence are dropped and only the
expected-idle tag is offered: a person reviews them with their owners, Costwarden suggests nothing that stops,
deletes or changes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from costwarden.resources.model import Resource, guard_reason, is_protected
from costwarden.settings import Settings


def keep_command(resource: Resource, settings: Settings) -> str:
    return (
        f"aws resourcegroupstaggingapi tag-resources --region {resource.region} --resource-arn-list {resource.arn} "
        f"--tags {settings.idle.expected_idle_key}=true"
    )


def recommend(
    suggestion: tuple[str, Sequence[str]], resource: Resource, settings: Settings
) -> tuple[str, tuple[str, ...]]:
    """The check's ``(sentence, commands)`` with the expected-idle tag appended: always the last command; only that
    tag for a production or protected resource (module docstring)."""
    text, commands = suggestion
    policy = settings.tags
    if guard_reason(resource.tags, policy, allow_production=False) is not None:
        why = (
            f"protected by {policy.protect_key}={policy.protect_value}"
            if is_protected(resource.tags, policy)
            else f"{policy.environment_key}=production"
        )
        text, commands = f"{why}: no stop, delete or change is suggested; review it with its owners", ()
    text += f"; if it is idle on purpose, tag it {settings.idle.expected_idle_key}=true"
    return text, (*commands, keep_command(resource, settings))
