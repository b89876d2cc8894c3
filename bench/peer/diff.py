"""What each tool flagged and why, by fleet category: a ratio is never read without it (pure, tested).

Inputs are the tools' own outputs — Costwarden's JSON envelope (``results``: one decision or finding each),
Custodian's ``resources.json`` (the resources its filters matched) — and the fleet's ``Manifest`` (instance id ->
the category it was built as). Costwarden's decision on an Auto Scaling group counts for the group's instances
("acted on through the group"), since that is what its plan would terminate.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}(T[\d:]+Z)?|\(in [^)]*\)|\d+(\.\d+)? ?%|\d+ busy hours")


def _short(reason: str) -> str:
    """A reason without its dates and figures, so instances of one category group under one text."""
    return " ".join(_STAMP.sub("…", reason).split())[:90]


def reaper_flags(envelope: Mapping[str, Any], groups: Mapping[str, list[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """Costwarden's reap plan → (instance id -> why it would act, instance id -> why it holds back).

    An instance is flagged when its decision plans an action (status ``planned``, action not ``none``), or when its
    Auto Scaling group's decision does; every other decision is a hold with its reason.
    """
    flagged: dict[str, str] = {}
    held: dict[str, str] = {}
    for row in envelope.get("results", []):
        acts = row.get("status") == "planned" and row.get("action") not in (None, "none")
        reason = str(row.get("reason", ""))
        if row.get("type") == "autoscaling:group":
            name = str(row.get("arn", "")).rsplit("/", 1)[-1]
            if acts:
                for member in groups.get(name, []):
                    flagged[member] = f"through its group: {row.get('action')} {name} ({reason})"
            continue
        instance = str(row.get("id") or str(row.get("arn", "")).rsplit("/", 1)[-1])
        (flagged if acts else held)[instance] = reason if acts else f"{row.get('status')}: {reason}"
    for instance in flagged:
        held.pop(instance, None)
    return flagged, held


def idle_flags(envelope: Mapping[str, Any]) -> dict[str, str]:
    """Costwarden's idle findings → instance id -> kind and evidence."""
    return {str(r.get("id")): f"{r.get('kind')}: {r.get('evidence', '')}" for r in envelope.get("results", [])}


def custodian_ids(resources: Iterable[Mapping[str, Any]]) -> set[str]:
    """The instance ids Custodian's policy matched (its ``resources.json``)."""
    return {str(r["InstanceId"]) for r in resources if "InstanceId" in r}


def by_category(
    categories: Mapping[str, str],
    costwarden: Mapping[str, str],
    custodian: set[str],
    held: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per fleet category: instances, flagged by each tool, and Costwarden's commonest reason there."""
    rows = []
    held = held or {}
    for category in sorted(set(categories.values())):
        ids = [i for i, c in categories.items() if c == category]
        reasons = Counter(_short(costwarden.get(i) or held.get(i) or "not reported") for i in ids)
        rows.append(
            {
                "category": category,
                "instances": len(ids),
                "costwarden": sum(i in costwarden for i in ids),
                "custodian": sum(i in custodian for i in ids),
                "costwarden_says": reasons.most_common(1)[0][0],
            }
        )
    return rows


def differences(categories: Mapping[str, str], costwarden: Mapping[str, str], custodian: set[str]) -> dict[str, Any]:
    """The set differences, counted by category; ids neither built nor known are ``unknown`` (a stray resource)."""
    ours = set(costwarden)
    only_c = Counter(categories.get(i, "unknown") for i in custodian - ours)
    only_cw = Counter(categories.get(i, "unknown") for i in ours - custodian)
    return {
        "both": len(ours & custodian),
        "only_costwarden": dict(sorted(only_cw.items())),
        "only_custodian": dict(sorted(only_c.items())),
    }


def render(rows: list[dict[str, Any]]) -> str:
    """The category table as text."""
    lines = [f"  {'category':32} {'n':>5} {'Costwarden':>10} {'Custodian':>9}  Costwarden says"]
    lines += [
        f"  {r['category']:32} {r['instances']:>5} {r['costwarden']:>10} {r['custodian']:>9}  {r['costwarden_says']}"
        for r in rows
    ]
    return "\n".join(lines)
