"""Incremental Cost Explorer pulls: final days are cached in the state table, only changing days are re-pulled.

Cost Explorer bills every request (every page). A day it no longer marks ``Estimated`` will not change, so it is
stored once (pk ``cost#<metric>#<keys>#<excluded record types>``, sk ``<YYYY-MM-DD>#<chunk>``) and never asked for
again. Each run re-pulls only what can still change: days that were estimated last time, days never pulled (the
first run backfills the whole window), and always the last ``refresh_days`` (2) days. A steady-state daily run
therefore makes one request per page of a two-to-three-day window, not of the 30-day baseline window.

The pk names the metric, the group keys and the record-type filter, so changing any of them in settings starts a
fresh cache instead of mixing incompatible numbers. Items expire (TTL) a little after they leave the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from costwarden.core.owner import owner_label
from costwarden.cost.frame import COST, DATE, ESTIMATED, ce_dates, empty_frame, from_ce_pages
from costwarden.models.ports import CostSource, StateStore

#: Groups per cached item: keeps each DynamoDB item far below its 400 KB limit even for thousands of teams.
CHUNK_GROUPS = 2_000

Pull = Callable[[date, date], list[dict[str, Any]]]


@dataclass
class PullReport:
    frame: pd.DataFrame
    """Long frame for every day of the window: date, keys, cost_usd, estimated."""
    pulled: list[tuple[str, str]] = field(default_factory=list)
    """[start, end) ranges requested from Cost Explorer this run."""
    cached_days: int = 0
    stored_days: int = 0
    estimated_days: list[str] = field(default_factory=list)


def _ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Contiguous [start, end) ranges covering the sorted ``days``."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and out[-1][1] == day:
            out[-1] = (out[-1][0], day + timedelta(days=1))
        else:
            out.append((day, day + timedelta(days=1)))
    return out


@dataclass
class CostCache:
    store: StateStore
    keys: Sequence[str]
    metric: str
    excluded_record_types: Sequence[str] = ()
    ttl_days: float = 60
    refresh_days: int = 2

    @property
    def pk(self) -> str:
        excluded = ",".join(sorted(self.excluded_record_types)) or "none"
        return f"cost#{self.metric}#{','.join(self.keys)}#{excluded}"

    def _cached(self, start: date, end: date) -> tuple[dict[str, list[tuple[list[str], float]]], set[str]]:
        rows: dict[str, list[tuple[list[str], float]]] = {}
        for item in self.store.query(self.pk):
            day = str(item["sk"]).split("#", 1)[0]
            if not start.isoformat() <= day < end.isoformat():
                continue
            bucket = rows.setdefault(day, [])
            bucket.extend((list(k), float(c)) for k, c in zip(item.get("keys", []), item.get("cost", []), strict=True))
        return rows, set(rows)

    def _store(self, frame: pd.DataFrame, days: Sequence[str]) -> None:
        items: list[tuple[str, str, dict[str, Any]]] = []
        by_day = dict(list(frame.groupby(frame[DATE].dt.strftime("%Y-%m-%d")))) if len(frame) else {}
        for day in days:
            part = by_day.get(day)
            keys = part[list(self.keys)].to_numpy().tolist() if part is not None else []
            costs = [round(float(c), 10) for c in part[COST]] if part is not None else []
            for chunk, first in enumerate(range(0, max(len(keys), 1), CHUNK_GROUPS)):
                items.append(
                    (
                        self.pk,
                        f"{day}#{chunk:03d}",
                        {"keys": keys[first : first + CHUNK_GROUPS], "cost": costs[first : first + CHUNK_GROUPS]},
                    )
                )
        if items:
            self.store.put_many(items, ttl_days=self.ttl_days)

    def load(self, start: date, end: date, pull: Pull) -> PullReport:
        """The long frame for ``[start, end)``: cached final days plus whatever had to be pulled this run."""
        cached_rows, cached_days = self._cached(start, end)
        refresh_from = end - timedelta(days=self.refresh_days)
        all_days = [start + timedelta(days=i) for i in range((end - start).days)]
        missing = [d for d in all_days if d.isoformat() not in cached_days or d >= refresh_from]
        report = PullReport(frame=empty_frame(self.keys))
        fresh: list[pd.DataFrame] = []
        final_days: list[str] = []
        for range_start, range_end in _ranges(missing):
            pages = pull(range_start, range_end)
            report.pulled.append((range_start.isoformat(), range_end.isoformat()))
            part = from_ce_pages(pages, self.keys, self.metric)
            fresh.append(part)
            for day, estimated in ce_dates(pages).items():
                if estimated:
                    report.estimated_days.append(day)
                elif day < refresh_from.isoformat() and start.isoformat() <= day:
                    final_days.append(day)
            self._store(part, [d for d in final_days if range_start.isoformat() <= d < range_end.isoformat()])
        report.stored_days = len(final_days)
        pulled_days = {d.isoformat() for d in missing}
        kept = {day: rows for day, rows in cached_rows.items() if day not in pulled_days}
        report.cached_days = len(kept)
        cached_frame = self._cached_frame(kept)
        parts = [p for p in (cached_frame, *fresh) if not p.empty]
        if parts:
            frame = pd.concat(parts, ignore_index=True)
            frame = frame.loc[(frame[DATE] >= pd.Timestamp(start)) & (frame[DATE] < pd.Timestamp(end))]
            report.frame = frame.sort_values([DATE, *self.keys], kind="stable").reset_index(drop=True)
        return report

    def load_from(self, source: CostSource, start: date, end: date) -> PullReport:
        """``load`` pulling from ``source.daily_by_tags`` with this cache's own keys, metric and record-type filter:
        every reader of the cache (the monitor, the monthly report, the advisor) asks the question it stores."""

        def pull(range_start: date, range_end: date) -> list[dict[str, Any]]:
            return source.daily_by_tags(
                range_start,
                range_end,
                list(self.keys),
                metric=self.metric,
                excluded_record_types=self.excluded_record_types,
            )

        return self.load(start, end, pull)

    def _cached_frame(self, rows: dict[str, list[tuple[list[str], float]]]) -> pd.DataFrame:
        # Days cached before 2026-12 carry the legacy label "(untagged)": read as the one owner label.
        records = [(day, *map(owner_label, keys), cost) for day, entries in rows.items() for keys, cost in entries]
        if not records:
            return empty_frame(self.keys)
        frame = pd.DataFrame(records, columns=[DATE, *self.keys, COST])
        frame[DATE] = pd.to_datetime(frame[DATE], format="%Y-%m-%d")
        frame[ESTIMATED] = False
        return frame
