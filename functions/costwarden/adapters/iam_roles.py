"""IAM ``ListRoleTags``: the tags of the role behind a caller, for the burn guard's owner rule (request tags first).

CloudTrail names the role an assumed-role caller came from (``sessionIssuer.arn``) but not its tags. One paged
request per distinct role per batch (the service caches); a role that cannot be read has no tags (its launch is
then unowned, never attributed by a guess), and the failure is counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costwarden.adapters import aws


@dataclass
class RoleTags:
    iam: Any = None
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    _cache: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.iam = self.iam or aws.client("iam")

    def __call__(self, role_arn: str) -> dict[str, str]:
        if role_arn not in self._cache:
            self._cache[role_arn] = self._read(role_arn)
        return self._cache[role_arn]

    def _read(self, role_arn: str) -> dict[str, str]:
        name = role_arn.rsplit("/", 1)[-1]
        tags: dict[str, str] = {}
        try:
            for page in aws.token_pages(self._page, {"RoleName": name}, "Marker"):
                tags.update({str(t["Key"]): str(t["Value"]) for t in page.get("Tags", [])})
                if not page.get("IsTruncated"):
                    break
        except Exception as error:  # no tags: the launch is unowned (never guessed); the summary counts it
            self.failures.append(f"{name}: {type(error).__name__}")
            return {}
        return tags

    def _page(self, params: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        page: dict[str, Any] = self.iam.list_role_tags(**params)
        return page
