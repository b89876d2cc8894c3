"""Send the day's digests: the fleet digest, then (when configured) one per team, each on its own.

One digest failing to publish does not stop the others; the result says which were sent and which failed, for the
handler's summary. Re-running the same day is safe: each digest's ``dedup_key`` (``digest#<date>[#team]``) makes the
notifier post it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from costwarden.digest.compose import compose_digests
from costwarden.models.alert import AlertEvent
from costwarden.models.digest import DigestInput
from costwarden.settings import NotifierSettings

Publisher = Callable[[AlertEvent], object]


@dataclass
class DigestRun:
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> dict[str, Any]:
        return {"digests_sent": len(self.sent), "digests_failed": dict(self.failed)}


def send_digests(inp: DigestInput, notifier: NotifierSettings, publish: Publisher) -> DigestRun:
    """Compose and publish every digest ``notifier`` settings ask for; never stop at the first failure."""
    run = DigestRun()
    for event in compose_digests(inp, notifier):
        try:
            publish(event)
        except Exception as error:
            run.failed[event.dedup_key] = f"{type(error).__name__}: {error}"[:500]
        else:
            run.sent.append(event.dedup_key)
    return run
