"""The daily digest at fleet sizes: compose + Slack rendering time, event size on SNS, blocks, longest section.

Acceptance (issue 6): a digest with 300 teams renders within Slack's limits. This shows the margins, up to 10,000
teams with 256-character names, and that composing stays a few tens of milliseconds.
"""

from __future__ import annotations

import json
import time
from typing import Any

from costwarden.adapters.sns import MAX_MESSAGE_BYTES
from costwarden.demo.example_digest import synthetic_input
from costwarden.digest.compose import compose_digest
from costwarden.notifier.digest_blocks import digest_blocks

CASES = ((12, 0), (300, 0), (300, 256), (1_000, 0), (10_000, 256))
REPEATS = 5


def main() -> list[dict[str, Any]]:
    rows = []
    for teams, name_length in CASES:
        inp = synthetic_input(
            teams, name_length=name_length, anomalies=min(teams, 300), expiring=min(teams, 300), reaper=600
        )
        timings = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            event = compose_digest(inp, top_n=40)
            blocks = digest_blocks(event)
            timings.append(time.perf_counter() - started)
        size = len(event.to_json().encode())
        rows.append(
            {
                "teams": teams,
                "name_length": name_length or len("team-0000"),
                "compose_render_ms": round(sorted(timings)[len(timings) // 2] * 1000, 1),
                "event_bytes": size,
                "sns_limit_used_pct": round(100 * size / MAX_MESSAGE_BYTES, 1),
                "team_rows_in_event": len(event.details["teams"]),
                "blocks": len(blocks),
                "longest_section_chars": max(len(b.get("text", {}).get("text", "")) for b in blocks),
                "blocks_json_chars": len(json.dumps(blocks, ensure_ascii=False)),
            }
        )
    header = list(rows[0])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print(
            "| " + " | ".join(f"{row[key]:,}" if isinstance(row[key], int) else str(row[key]) for key in header) + " |"
        )
    return rows


if __name__ == "__main__":
    main()
