"""Amazon Bedrock's control plane for the spend guard: the account's application inference profiles and their tags.

``ListInferenceProfiles`` (``typeEquals=APPLICATION``, 1,000 a page) gives each profile's ARN and the model ARNs
it routes to; ``ListTagsForResource`` gives its tags (the team is one of them). Tags change rarely and are read
once per profile per ``TAGS_CACHE_HOURS`` from the state table, so an hourly run makes one request per page of
profiles plus one per profile new or expired in the cache, not one per profile per hour.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from costwarden.models.ports import Clients, StateStore, error_text

TAGS_PK = "bedrock#tags"
TAGS_CACHE_HOURS = 24


@dataclass(frozen=True)
class ProfileRecord:
    """One application inference profile as Bedrock lists it, with its tags."""

    arn: str
    name: str
    model_arns: tuple[str, ...]
    tags: dict[str, str]


@dataclass
class BedrockProfiles:
    """Reads the application inference profiles of one region; ``requests`` counts calls by operation."""

    clients: Clients
    state: StateStore | None = None
    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def _count(self, operation: str) -> None:
        self.requests[operation] = self.requests.get(operation, 0) + 1

    def list(self, region: str, now: datetime) -> list[ProfileRecord]:
        """Every application inference profile of ``region`` with its tags (a profile whose tags cannot be read is
        listed without them, and the error is kept: its spend is the unowned team's, never dropped)."""
        api = self.clients("bedrock", region)
        found: list[ProfileRecord] = []
        request: dict[str, Any] = {"typeEquals": "APPLICATION", "maxResults": 1000}
        while True:
            self._count("ListInferenceProfiles")
            page = api.list_inference_profiles(**request)
            for summary in page.get("inferenceProfileSummaries", []):
                arn = str(summary.get("inferenceProfileArn", ""))
                if not arn:
                    continue
                models = tuple(str(m.get("modelArn", "")) for m in summary.get("models", []) if isinstance(m, dict))
                found.append(
                    ProfileRecord(arn, str(summary.get("inferenceProfileName", "")), models, self._tags(api, arn, now))
                )
            token = page.get("nextToken")
            if not token:
                return found
            request["nextToken"] = token

    def _tags(self, api: Any, arn: str, now: datetime) -> dict[str, str]:
        cached = self._cached(arn, now)
        if cached is not None:
            return cached
        try:
            self._count("ListTagsForResource")
            tags = {str(t["key"]): str(t["value"]) for t in api.list_tags_for_resource(resourceARN=arn).get("tags", [])}
        except Exception as error:  # listed untagged, and said so
            self.errors.append(f"{arn}: ListTagsForResource failed: {error_text(error)}")
            return {}
        if self.state is not None:  # a failed cache write costs one request next hour
            with contextlib.suppress(Exception):
                self.state.put(TAGS_PK, arn, {"tags": tags, "at": now.isoformat()}, ttl_days=2)
        return tags

    def _cached(self, arn: str, now: datetime) -> dict[str, str] | None:
        if self.state is None:
            return None
        try:
            item = self.state.get(TAGS_PK, arn)
            if not item or now - datetime.fromisoformat(str(item["at"])) > timedelta(hours=TAGS_CACHE_HOURS):
                return None
            return {str(k): str(v) for k, v in dict(item["tags"]).items()}
        except Exception:  # an unreadable cache entry: read afresh
            return None
