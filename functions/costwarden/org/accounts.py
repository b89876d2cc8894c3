"""Account selection: from the organization's account list to the accounts one run guards, each with its team.

Rules (one place, used by the state machine's first step, the CLI's ``--accounts`` and the demo):

* only ``ACTIVE`` accounts (a suspended or closing account cannot be assumed into and has nothing to reap);
* ``organization.accounts``: ``all``, or account ids and OU/root ids (an OU selects every account below it);
* ``organization.exclude_accounts`` always wins, whatever selected the account;
* an account's team is its Organizations tag ``settings.tags.team_key`` (read with ``ListTagsForResource``).

Every account left out is kept with the reason, so the run summary says why an account was not guarded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from costwarden.models.org import ACTIVE, Account
from costwarden.settings import OrganizationSettings, Settings

READ_ROLE_SUFFIX = "-read"
REAPER_ROLE_SUFFIX = "-reaper"


@dataclass
class Selection:
    selected: list[Account] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """account id -> why it is not guarded."""
    unknown: list[str] = field(default_factory=list)
    """Configured account or OU ids the organization does not have (a typo, or an account that left)."""


def wants_ou_paths(org: OrganizationSettings) -> bool:
    """OU ids in ``accounts`` need each account's parents (ListParents); ``all`` and plain ids do not."""
    return not isinstance(org.accounts, str) and any(not a.isdigit() for a in org.accounts)


def select_accounts(accounts: Iterable[Account], org: OrganizationSettings) -> Selection:
    """Apply the rules above, keeping the organization's order."""
    everything = list(accounts)
    known_ids = {a.id for a in everything}
    known_parents = {p for a in everything for p in a.parents}
    wanted: set[str] | None = None if isinstance(org.accounts, str) else set(org.accounts)
    excluded = set(org.exclude_accounts)
    selection = Selection()
    if wanted is not None:
        selection.unknown = sorted(w for w in wanted if w not in known_ids and w not in known_parents)
    for account in everything:
        if account.id in excluded:
            selection.skipped[account.id] = "excluded (organization.exclude_accounts)"
        elif account.status != ACTIVE:
            selection.skipped[account.id] = f"status {account.status}: not guarded"
        elif wanted is not None and account.id not in wanted and not wanted.intersection(account.parents):
            selection.skipped[account.id] = "not in organization.accounts"
        else:
            selection.selected.append(account)
    return selection


def parse_account_list(raw: str) -> list[str] | None:
    """``--accounts all`` -> None (every account); ``ID,ID`` -> the ids. Raises ``ValueError`` naming the bad id."""
    text = raw.strip()
    if text == "all":
        return None
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise ValueError("--accounts needs 'all' or comma-separated 12-digit account ids")
    bad = [i for i in ids if not (len(i) == 12 and i.isdigit())]
    if bad:
        raise ValueError(f"--accounts: not a 12-digit account id: {', '.join(bad)}")
    return list(dict.fromkeys(ids))


def role_arn(account_id: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def read_role_name(org: OrganizationSettings) -> str:
    """The member role planning and auditing assume (read only)."""
    return org.member_role_name + READ_ROLE_SUFFIX


def reaper_role_name(org: OrganizationSettings) -> str:
    """The member role the act phase assumes (the reaper's tag-conditioned policy)."""
    return org.member_role_name + REAPER_ROLE_SUFFIX


def regions_for(settings: Settings, default_region: str, override: Sequence[str] | None = None) -> list[str]:
    """``override``, else ``organization.regions``, else ``reaper.regions``, else the deployment region."""
    chosen = [r.strip() for r in (override or settings.organization.regions or settings.reaper.regions) if r.strip()]
    return list(dict.fromkeys(chosen)) or [default_region]
