"""AWS Organizations, read only: accounts, their tags (the account's team) and, when OUs are configured, their OU path.

Requests: ``ListAccounts`` grows with pages (20 accounts a page); ``ListTagsForResource`` is one request per account
(Organizations has no batch tag read); the OU walk is one ``ListOrganizationalUnitsForParent`` and one
``ListAccountsForParent`` per OU (pages aside), made only when ``organization.accounts`` names OUs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from costwarden.adapters import aws
from costwarden.models.org import Account

#: Organizations is a global service served from us-east-1 (aws partition).
ORGANIZATIONS_REGION = "us-east-1"


@dataclass
class Organization:
    """A counting reader over one Organizations client (management or delegated administrator account)."""

    client: Any = None
    requests: int = 0
    tag_errors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = aws.client("organizations", ORGANIZATIONS_REGION)

    def _pages(self, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.client.get_paginator(operation).paginate(**params):
            self.requests += 1
            items.extend(page.get(key, []))
        return items

    def accounts(self, *, with_ou_paths: bool = False) -> list[Account]:
        """Every account of the organization, with its tags (and OU path when asked), in ListAccounts order."""
        raw = self._pages("list_accounts", "Accounts")
        paths = self.ou_paths() if with_ou_paths else {}
        return [
            Account(
                id=a["Id"],
                name=a.get("Name", ""),
                # "State" replaces "Status" in the 2025 API; older responses (and moto) carry only Status.
                status=str(a.get("State") or a.get("Status") or "ACTIVE"),
                parents=paths.get(a["Id"], ()),
                tags=self.tags(a["Id"]),
            )
            for a in raw
        ]

    def tags(self, account_id: str) -> dict[str, str]:
        """An account's tags; a refusal is recorded (the account then has no team) and the listing goes on."""
        try:
            found = self._pages("list_tags_for_resource", "Tags", ResourceId=account_id)
        except aws.AWS_ERRORS as error:
            self.tag_errors[account_id] = str(error)
            return {}
        return {t["Key"]: t["Value"] for t in found}

    def ou_paths(self) -> dict[str, tuple[str, ...]]:
        """account id -> (direct parent OU, ..., root id), walking the tree once from each root."""
        paths: dict[str, tuple[str, ...]] = {}
        for root in self._pages("list_roots", "Roots"):
            stack: list[tuple[str, tuple[str, ...]]] = [(root["Id"], (root["Id"],))]
            while stack:
                parent, path = stack.pop()
                for account in self._pages("list_accounts_for_parent", "Accounts", ParentId=parent):
                    paths[account["Id"]] = path
                for ou in self._pages("list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent):
                    stack.append((ou["Id"], (ou["Id"], *path)))
        return paths
