"""The demo's story clock: every chapter that depends on "now" takes it from here, so the reaper's night, the tag
audit and the cost monitor's mornings line up (the digest reads the reaper's last 24 h relative to its own run).

All times are UTC. The dates are fixed so the story (and its tests) are the same whenever the demo runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

#: The cost monitor's first run (08:00 UTC, its default schedule): it backfills the history and judges the day before.
RUN_DAY = date(2026, 11, 20)
#: Its second run, one day later: the incremental pull.
NEXT_DAY = RUN_DAY + timedelta(days=1)
#: The third run, the morning the demo ends with: its daily digest.
DIGEST_DAY = RUN_DAY + timedelta(days=2)
#: The first chapter's sample alerts: the morning the story starts.
SAMPLES_AT = datetime.combine(RUN_DAY, time(7, 30), tzinfo=UTC)
#: When the scheduled cost monitor runs each day.
COST_RUN_TIME = time(8, 0)
#: The weekly tag audit ran the afternoon before the digest.
TAG_AUDIT_AT = datetime.combine(NEXT_DAY, time(14, 0), tzinfo=UTC)
#: The reaper's run in the night before the digest (it runs hourly; the next run is one hour later).
REAPER_AT = datetime.combine(DIGEST_DAY, time(3, 0), tzinfo=UTC)


def cost_run_at(day: date) -> datetime:
    """When the scheduled cost monitor runs on ``day``."""
    return datetime.combine(day, COST_RUN_TIME, tzinfo=UTC)
