"""The one alert builder: the ``AlertEvent`` shape every capability publishes, with its figures and items.

Every alert a capability raises has the same parts: kind, severity, team, a title and a summary, ``figures`` (label
-> short value, the Slack fields) and ``items`` (short lines, the Slack list), capped with a closing
``... and N more`` so a 5,000-resource plan is still one readable message under SNS's size limit, plus the kind's
own data for machines. Six capabilities wrote that by hand, each with its own truncation; here it is once:

* ``details`` is ``{"figures": ..., "items": ..., **extra}`` in that order (the order the Slack renderer and the
  stored JSON have always had); ``items`` is left out when the alert has none to give (``items=None``), kept
  (possibly empty) when given.
* figure values are written with ``str()`` (counts, ids); amounts arrive formatted by ``costwarden.core.money``.
* the dedup key is typed (``costwarden.core.keys``): an alert cannot be built from a free-form string.

What an alert tells a person beyond figures and items has three more places (issue 22), each left out of
``details`` when the alert has none, each rendered by the notifier's default layout and the e-mail text alike:
``sections`` (labelled lists: the root causes by usage type, the resources launched), ``next_step`` (the one line
saying what to do) and ``links`` (label -> URL: the Cost Explorer view, the report; a renderer turns them into
``<url|label>``, never a raw URL in the text). ``metadata`` holds what machines read and people need not see (an
anomaly's z-score): Slack's message metadata, beside the dedup key, never the visible text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from costwarden.core.keys import DedupKey
from costwarden.models.alert import AlertEvent, AlertKind, Severity


def more_line(hidden: int) -> str:
    """The closing line of a truncated list."""
    return f"... and {hidden} more"


def truncate(lines: Sequence[str], limit: int, *, total: int | None = None) -> list[str]:
    """The first ``limit`` lines, then ``... and N more`` when there were more (``total``: when ``lines`` is already
    a slice of a longer list, how many there were in all)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"truncate: limit must be a whole number >= 0, got {limit!r}")
    count = len(lines) if total is None else max(total, len(lines))
    shown = list(lines[:limit])
    return [*shown, more_line(count - len(shown))] if count > len(shown) else shown


def build(
    kind: AlertKind,
    severity: Severity,
    team: str,
    key: DedupKey,
    *,
    title: str,
    summary: str,
    figures: Mapping[str, object],
    items: Sequence[str] | None = None,
    max_items: int | None = None,
    extra: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    sections: Sequence[tuple[str, Sequence[str]]] = (),
    next_step: str | None = None,
    links: Sequence[tuple[str, str]] = (),
    metadata: Mapping[str, Any] | None = None,
) -> AlertEvent:
    """One ``AlertEvent``: ``items`` capped at ``max_items`` with ``... and N more`` (``None``: uncapped, the caller
    sliced it); ``extra`` is the kind's own data after figures and items; ``now`` defaults to the event's own clock.
    ``sections`` (title, lines), ``next_step``, ``links`` (label, URL) and ``metadata`` as the module says; a section
    without lines and a link without a URL are left out.
    """
    details: dict[str, Any] = {"figures": {label: str(value) for label, value in figures.items()}}
    if items is not None:
        details["items"] = list(items) if max_items is None else truncate(items, max_items)
    shown = [{"title": title, "lines": [str(line) for line in lines]} for title, lines in sections if lines]
    if shown:
        details["sections"] = shown
    if next_step:
        details["next_step"] = next_step
    if any(url for _, url in links):
        details["links"] = [{"label": label, "url": url} for label, url in links if url]
    if metadata:
        details["metadata"] = dict(metadata)
    details.update(extra or {})
    fields: dict[str, Any] = {"kind": kind, "severity": severity, "team": team, "title": title, "summary": summary}
    if now is not None:  # else the event's own clock (``AlertEvent.occurred_at``'s default)
        fields["occurred_at"] = now
    return AlertEvent(details=details, dedup_key=key.to_str(), **fields)
