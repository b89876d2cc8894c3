"""The tag-policy validator: every problem of one tag set at once, each with a message a person can act on.

Pure (no AWS, no I/O). Everything that checks tags — the CI gate (``costwarden tags validate``), the CDK Aspect
(``infra/aspects.py``) and the weekly account audit — calls :func:`validate_tags`, so a tag set means the same
thing wherever it is checked.

What counts as a problem (``Finding.code``):

``missing``            a required key is absent ("add tag team=<your team>")
``key_typo``           a key that is almost a policy key: other case (``Team``), other separator
                       (``lifecycle-phase``, ``lifecyclePhase``), stray spaces (``"team "``) or a near-miss spelling
                       (``enviroment``) — "rename 'Team' to 'team'". When the policy key itself is absent this finding
                       replaces ``missing`` (the fix is the rename, not a second tag). When both are there, the
                       policy key wins (for the team: it alone decides the owner, ``core.owner``) and the other
                       spelling is this finding ("remove tag 'Team'").
``empty``              a policy key whose value is empty or only whitespace
``value_whitespace``   a value with leading/trailing spaces (Cost Explorer groups ``ml `` apart from ``ml``)
``value_not_allowed``  a value outside ``allowed_values`` — the message lists the allowed values and the closest one
``malformed_expires_at`` ``expires_at`` is not ISO 8601 (DESIGN.md, "``expires_at``")
``too_long``           key over 128 or value over 256 characters (AWS limits)

and one note that is not a violation:

``unresolved_value``   the value is only known at deploy time (a CloudFormation intrinsic function, a CDK token,
                       a Terraform "known after apply"): accepted as present, not checked against allowed values.
``missing_deferred``   a required key is absent from the known tags, but something the file cannot show may still
                       supply it (a Terraform AWS provider's ``default_tags`` whose value the plan does not know).
                       Only that: a key that nothing can supply is ``missing``, and known values are always checked.

A finding that holds only under a CloudFormation condition carries ``when`` ("condition IsProd is false").
An empty or null value is ``empty``, never "known at deploy time".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from costwarden.models.expiry import MalformedExpiry, parse_expires_at
from costwarden.settings import TagPolicy

MAX_KEY_CHARS = 128
MAX_VALUE_CHARS = 256
#: How alike a key must be to a policy key (difflib ratio, after normalisation) to be called a likely typo.
TYPO_CUTOFF = 0.82
#: Tags AWS itself sets (``aws:cloudformation:stack-name``...): never the user's to fix.
AWS_RESERVED_PREFIX = "aws:"


class Code(StrEnum):
    MISSING = "missing"
    KEY_TYPO = "key_typo"
    EMPTY = "empty"
    VALUE_WHITESPACE = "value_whitespace"
    VALUE_NOT_ALLOWED = "value_not_allowed"
    MALFORMED_EXPIRES_AT = "malformed_expires_at"
    TOO_LONG = "too_long"
    UNRESOLVED_VALUE = "unresolved_value"
    MISSING_DEFERRED = "missing_deferred"


#: Codes that are information, not violations.
NOTE_CODES = frozenset({Code.UNRESOLVED_VALUE, Code.MISSING_DEFERRED})


@dataclass(frozen=True)
class Finding:
    """One problem with one key. ``key`` is the policy key concerned; ``found_key`` the key as written, if other."""

    code: Code
    key: str
    message: str
    found_key: str | None = None
    suggestion: str | None = None
    #: The condition under which the finding holds (``condition IsProd is false``); ``None`` when it always holds.
    when: str | None = None

    @property
    def is_violation(self) -> bool:
        return self.code not in NOTE_CODES

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code.value, "key": self.key, "message": self.message}
        if self.found_key is not None:
            out["found_key"] = self.found_key
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion
        if self.when is not None:
            out["when"] = self.when
        return out


@dataclass(frozen=True)
class TagCheck:
    """The result of checking one tag set: ``findings`` in policy order, violations and notes together."""

    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_violation)

    @property
    def notes(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_violation)

    @property
    def ok(self) -> bool:
        return not self.violations


def _is_expiry(value: str) -> bool:
    """The reaper's own rule (``costwarden.models.expiry``): what it would act on is what passes here."""
    try:
        parse_expires_at(value)
    except MalformedExpiry:
        return False
    return True


# --- key normalisation -----------------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s\-.:/]+")


def normalise_key(key: str) -> str:
    """``lifecyclePhase`` / ``Lifecycle-Phase`` / `` lifecycle phase `` → ``lifecycle_phase``."""
    text = _CAMEL.sub("_", key.strip())
    text = _SEPARATORS.sub("_", text).lower()
    return re.sub(r"_+", "_", text).strip("_")


def _closest(word: str, candidates: Collection[str], cutoff: float) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def intended_key(found: str, policy_keys: Collection[str]) -> str | None:
    """The policy key ``found`` most likely means, or ``None`` if it is nobody's typo (or already exact)."""
    return _intended_key(found, tuple(policy_keys))


@lru_cache(maxsize=4096)
def _intended_key(found: str, policy_keys: tuple[str, ...]) -> str | None:
    # Cached: the same few keys (Name, Team, owner...) recur on thousands of resources in an audit or template.
    if found in policy_keys:
        return None
    normal = normalise_key(found)
    by_normal = {normalise_key(key): key for key in policy_keys}
    if normal in by_normal:
        return by_normal[normal]
    guess = _closest(normal, by_normal, TYPO_CUTOFF)
    return by_normal[guess] if guess is not None else None


def closest_value(value: str, allowed: Collection[str]) -> str | None:
    """The allowed value ``value`` most likely means (case and spaces forgiven first, then spelling)."""
    folded = {v.strip().lower(): v for v in allowed}
    text = value.strip().lower()
    if text in folded:
        return folded[text]
    # Abbreviations people type: prod, dev, eval.
    prefixed = [original for low, original in folded.items() if len(text) >= 3 and low.startswith(text)]
    if len(prefixed) == 1:
        return prefixed[0]
    guess = _closest(text, folded, 0.6)
    return folded[guess] if guess is not None else None


# --- the validator ---------------------------------------------------------------------------------------------


def _placeholder(key: str) -> str:
    return f"<your {key.replace('_', ' ')}>"


def policy_keys(policy: TagPolicy) -> tuple[str, ...]:
    """Every key the policy names (required, optional, the protect tag), in that order."""
    return tuple(dict.fromkeys((*policy.required, *policy.optional, policy.protect_key)))


def _check_value(key: str, value: str, policy: TagPolicy, written_as: str) -> list[Finding]:
    findings: list[Finding] = []
    if not value.strip():
        what = "empty" if value == "" else "only whitespace"
        findings.append(
            Finding(Code.EMPTY, key, f"tag '{written_as}' is {what}: set {key}={_placeholder(key)}", written_as)
        )
        return findings
    if len(value) > MAX_VALUE_CHARS:
        findings.append(
            Finding(Code.TOO_LONG, key, f"value of '{written_as}' has {len(value)} characters; AWS allows 256")
        )
    if value != value.strip():
        findings.append(
            Finding(
                Code.VALUE_WHITESPACE,
                key,
                f"value of '{written_as}' has leading/trailing spaces: set {key}={value.strip()!r} "
                "(Cost Explorer counts the spaced value as a different one)",
                written_as,
                value.strip(),
            )
        )
    allowed = policy.allowed_values.get(key)
    if allowed and value.strip() not in allowed:
        guess = closest_value(value, allowed)
        hint = f"; did you mean '{guess}'?" if guess else ""
        findings.append(
            Finding(
                Code.VALUE_NOT_ALLOWED,
                key,
                f"{key}={value!r} is not allowed; allowed: {', '.join(allowed)}{hint}",
                written_as,
                guess,
            )
        )
    if key == policy.expires_key and not _is_expiry(value):
        findings.append(
            Finding(
                Code.MALFORMED_EXPIRES_AT,
                key,
                f"{key}={value!r} is not an ISO 8601 date or date-time: use e.g. {key}=2026-12-01 "
                f"or {key}=2026-12-01T18:00:00Z (the reaper never acts on a malformed date)",
                written_as,
            )
        )
    return findings


def _likely_typos(tags: Mapping[str, str | None], known: Collection[str]) -> tuple[dict[str, list[str]], list[Finding]]:
    """Written keys that are not policy keys but most likely mean one, grouped by the policy key they mean."""
    typos: dict[str, list[str]] = {}
    findings: list[Finding] = []
    for written in tags:
        if written in known or written.startswith(AWS_RESERVED_PREFIX):
            continue
        if len(written) > MAX_KEY_CHARS:
            findings.append(Finding(Code.TOO_LONG, written, f"key '{written[:40]}...' is over 128 characters"))
            continue
        meant = intended_key(written, known)
        if meant is not None:
            typos.setdefault(meant, []).append(written)
    return typos, findings


def _check_present(
    key: str, written: str, tags: Mapping[str, str | None], policy: TagPolicy, unresolved: set[str]
) -> list[Finding]:
    if written in unresolved:
        return [
            Finding(
                Code.UNRESOLVED_VALUE,
                key,
                f"value of '{written}' is only known at deploy time: accepted as present, not checked",
                None if written == key else written,
            )
        ]
    # A null value (YAML ``Value:`` left empty, Terraform ``null``) is empty, not "known at deploy time".
    return _check_value(key, tags[written] or "", policy, written)


def validate_tags(
    tags: Mapping[str, str | None],
    policy: TagPolicy,
    *,
    unresolved: Collection[str] = (),
    deferred: str | None = None,
) -> TagCheck:
    """Check one resource's tags against the policy and return every finding at once.

    ``unresolved`` names keys whose value is only known at deploy time (their value in ``tags`` is ignored): they
    count as present and get an ``unresolved_value`` note instead of a value check. Every other value is checked.

    ``deferred`` names what may still supply absent keys at deploy time (e.g. "the AWS provider's default_tags,
    not known in the plan"): absent required keys then get a ``missing_deferred`` note instead of ``missing``.
    Callers pass it only when such a source really exists, so a resource that nothing can tag still fails.
    """
    known = policy_keys(policy)
    unresolved_set = set(unresolved)
    typos, findings = _likely_typos(tags, known)
    for key in known:
        if key in tags:
            findings.extend(_check_present(key, key, tags, policy, unresolved_set))
            owner = f" (only '{key}' decides the owner)" if key == policy.team_key else ""
            findings.extend(
                Finding(
                    Code.KEY_TYPO, key, f"remove tag '{w}': it duplicates '{key}' in another spelling{owner}", w, key
                )
                for w in typos.get(key, [])
            )
        elif key in typos:
            for written in typos[key]:
                message = f"rename tag '{written}' to '{key}' (tag keys are case- and spelling-sensitive)"
                findings.append(Finding(Code.KEY_TYPO, key, message, written, key))
                findings.extend(_check_present(key, written, tags, policy, unresolved_set))
        elif key in policy.required and deferred is not None:
            message = f"tag {key} is not among the known tags; {deferred} may supply it (not checkable before apply)"
            findings.append(Finding(Code.MISSING_DEFERRED, key, message))
        elif key in policy.required:
            findings.append(Finding(Code.MISSING, key, f"add tag {key}={_placeholder(key)}"))
    return TagCheck(tuple(findings))


def summarise(check: TagCheck) -> str:
    """One line naming every violation (for Slack items and error annotations)."""
    parts = []
    missing = [f.key for f in check.violations if f.code == Code.MISSING]
    if missing:
        parts.append("missing " + ", ".join(missing))
    parts.extend(f.message for f in check.violations if f.code != Code.MISSING)
    return "; ".join(parts)
