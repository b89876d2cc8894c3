"""The idle finder's IAM policy (pure; infra/idle.py turns it into a role), from the registry's declarations.

* Read-only always, from the idle checks' declarations (``costwarden.idle.checks``): each check's ``reads``
  (CloudWatch, its describe calls, its own listing), the list/describe actions of the registry types it reads, and
  the Price List — on ``*`` (none of them supports resource-level permissions).
* Tagging only when ``idle.action`` is ``expire``: each scanned type's ``mark`` tagging action and its untagging
  counterpart, on the type's ARN pattern in the configured regions, only on resources tagged ``environment`` =
  development or experiment and not carrying the protect tag (the reaper's tag conditions), and only for the two
  keys it writes (``aws:TagKeys`` = the expiry key and the marker key); untagging also requires the marker. Explicit
  ``Deny`` on protected and production resources, as for the reaper.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from costwarden.idle.checks import CHECKS, scanned_types
from costwarden.idle.checks.base import PRICE_READ
from costwarden.idle.marks import EXPIRABLE_ENVIRONMENTS
from costwarden.resources import COMMON_READ_PERMISSIONS, REGISTRY
from costwarden.resources.base import UNTAG_ACTIONS
from costwarden.resources.iam import _resources, _sid
from costwarden.settings import Settings

Statement = dict[str, Any]


def read_actions() -> list[str]:
    actions = set(COMMON_READ_PERMISSIONS) | {PRICE_READ}
    for check in CHECKS:
        actions.update(check.reads)
        for name in check.inventory:
            actions.update(REGISTRY[name].read_permissions)
    return sorted(actions)


def policy_statements(settings: Settings, *, partition: str, account: str, regions: Sequence[str]) -> list[Statement]:
    """Every statement of the idle finder's role policy, in a stable order."""
    statements: list[Statement] = [
        {"Sid": "IdleReadOnly", "Effect": "Allow", "Action": read_actions(), "Resource": "*"}
    ]
    if settings.idle.action != "expire":
        return statements
    tags, cfg = settings.tags, settings.idle
    deny: dict[str, set[str]] = defaultdict(set)
    for name in scanned_types():
        rtype = REGISTRY[name]
        prefix = rtype.tag_condition_prefix
        for permission in rtype.tag_permissions:
            untag = tuple(UNTAG_ACTIONS[a] for a in permission.actions)
            base = {
                "StringNotEqualsIgnoreCase": {f"{prefix}/{tags.protect_key}": tags.protect_value},
                "StringEqualsIgnoreCase": {f"{prefix}/{tags.environment_key}": list(EXPIRABLE_ENVIRONMENTS)},
                "ForAllValues:StringEquals": {"aws:TagKeys": [tags.expires_key, cfg.marker_key]},
            }
            resources = _resources(permission.resource, partition, account, regions)
            statements.append(
                {
                    "Sid": _sid("IdleMark", name, *permission.actions[:1]),
                    "Effect": "Allow",
                    "Action": sorted(permission.actions),
                    "Resource": resources,
                    "Condition": base,
                }
            )
            statements.append(
                {
                    "Sid": _sid("IdleUnmark", name, *untag[:1]),
                    "Effect": "Allow",
                    "Action": sorted(untag),
                    "Resource": resources,
                    "Condition": {**base, "Null": {f"{prefix}/{cfg.marker_key}": "false"}},
                }
            )
            deny[prefix].update(permission.actions + untag)
    for prefix, actions in sorted(deny.items()):
        for sid, key, value in (
            ("IdleDenyProtected", tags.protect_key, tags.protect_value),
            ("IdleDenyProduction", tags.environment_key, "production"),
        ):
            statements.append(
                {
                    "Sid": _sid(sid, prefix.split(":")[0]),
                    "Effect": "Deny",
                    "Action": sorted(actions),
                    "Resource": "*",
                    "Condition": {"StringEqualsIgnoreCase": {f"{prefix}/{key}": value}},
                }
            )
    return statements
