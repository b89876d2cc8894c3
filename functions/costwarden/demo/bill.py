"""The demo's one bill: the simulated organization's AWS line items, late July through 30 November 2026.

Every chapter that reads spend reads this bill: the cost monitor's mornings (``demo.cost``, answered by moto's
Cost Explorer from it), the digest, the advisor's levers and the monthly report (``demo.billing``'s simulated
account answers from it too). So the report's November is the month the digest was about, and the same team has
the same dollars in every chapter.

Five teams, each with one lifecycle phase and environment (allowed values of the tag policy:
``settings.tags``), spend a weekday level with a weekend factor and 5 % noise, split over EC2 (on-demand GPUs, spot
GPUs, on-demand CPUs, or on-demand inference boxes), S3 and SageMaker; a slice of EC2 nobody tagged. The stories:
on 19 November vision's SageMaker fleet is left running (through the 21st; the reaper deletes it that night) and
nlp launches an extra on-demand training job; on 1-12 November speech runs two sweeps against its experiment pool
(``SPEECH_NOVEMBER``: the cost chapter's pools look-back reads them from here). ``cost.line_items`` is this bill by
day, team, phase and service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

from costwarden.demo.billing import ITEM_COLUMNS
from costwarden.demo.timeline import RUN_DAY

#: The bill's first and last day (inclusive): the advisor looks back 130 days from 1 December.
FIRST_DAY = date(2026, 7, 24)
LAST_DAY = date(2026, 11, 30)
#: The cost chapter's history: the days its first run can see, drawn first so their numbers stay the story's.
HISTORY_DAYS = 70
STORY_FIRST = RUN_DAY - timedelta(days=HISTORY_DAYS)
STORY_LAST = RUN_DAY + timedelta(days=1)

EC2 = "Amazon Elastic Compute Cloud - Compute"
S3 = "Amazon Simple Storage Service"
SAGEMAKER = "Amazon SageMaker"
#: Service shares of a team's day.
SERVICES = ((EC2, 0.6), (S3, 0.25), (SAGEMAKER, 0.15))
#: Spend nobody tagged with a team (a shared eu-west-1 box, see the tag audit chapter), USD per weekday.
UNTAGGED_USD = 180.0
#: The stories of 19-21 November: (day offset from RUN_DAY, team, service, purchase, USD).
STORIES = (
    (-1, "vision", SAGEMAKER, "On Demand Instances", 3_900.0),
    (-1, "nlp", EC2, "On Demand Instances", 700.0),
    (0, "vision", SAGEMAKER, "On Demand Instances", 3_900.0),
    (1, "vision", SAGEMAKER, "On Demand Instances", 3_900.0),
)


@dataclass(frozen=True)
class Team:
    """One team's spend pattern and tags (every value an allowed one)."""

    level_usd: float
    phase: str
    weekend_factor: float
    environment: str
    project: str


TEAMS: dict[str, Team] = {
    "vision": Team(1_500.0, "training", 0.55, "experiment", "vision-research"),
    "nlp": Team(900.0, "training", 0.7, "experiment", "nlp-research"),
    "recsys": Team(2_200.0, "inference", 0.9, "production", "recsys-serving"),
    "speech": Team(600.0, "development", 0.4, "development", "speech-asr"),
    "platform": Team(350.0, "inference", 1.0, "production", "platform-shared"),
}
ON_DEMAND = "On Demand Instances"
UNTAGGED_USAGE = "EUW1-BoxUsage:m5.xlarge"
#: How a team's EC2 share is bought: (purchase type, usage type, model suffix, share, USD per instance-hour).
TRAINING_EC2 = (
    ("On Demand Instances", "USE1-BoxUsage:p3.8xlarge", "model-a", 0.55, 12.24),
    ("Spot Instances", "USE1-SpotUsage:p3.8xlarge", "model-a", 0.30, 3.67),
    ("On Demand Instances", "USE1-BoxUsage:m5.4xlarge", "model-b", 0.15, 0.768),
)
INFERENCE_EC2 = (("On Demand Instances", "USE1-BoxUsage:g5.2xlarge", "model-a", 1.0, 1.212),)
OTHER_USAGE = {S3: ("USE1-TimedStorage-ByteHrs", "model-b"), SAGEMAKER: ("USE1-ml.p3.8xlarge", "model-a")}
#: The line items' columns: the simulated billing account's (``demo.billing``), which answers from them, and the
#: ``experiment_id`` tag the pools story groups speech's experiments by.
COLUMNS = (*ITEM_COLUMNS, "experiment_id")
#: speech's first days of November (issue 15's pools story): (environment, experiment_id, first day, last day, USD a
#: day): a learning-rate sweep on days 4-11, a batch-size sweep all along, development notebooks, production
#: serving, and spend nobody tagged with an environment. 85 % of its 5,000 USD experiment pool is gone by the 12th.
SPEECH_NOVEMBER: tuple[tuple[str, str, int, int, float], ...] = (
    ("experiment", "sweep-lr", 4, 11, 325.0),
    ("experiment", "sweep-bs", 1, 12, 100.0),
    ("development", "", 1, 12, 37.5),
    ("production", "", 1, 12, 600.0),
    ("", "", 1, 12, 30.0),
)
#: The last day of the pools story (speech spends its usual pattern again from the 13th).
SPEECH_POOL_DAY = date(2026, 11, 12)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class Bought:
    """How a slice of spend was bought and tagged, where it is not the team's usual: the purchase type, the
    environment, the ``experiment_id``."""

    purchase: str | None = None
    environment: str | None = None
    experiment: str = ""


#: One line item, in ``COLUMNS`` order.
Row = tuple[str, str, str, str, str, str, str, str, str, float, float, str]


def _team_rows(day: date, team: str, service: str, usd: float, *, how: Bought = Bought()) -> list[Row]:
    """One team's ``usd`` on ``service`` that day as line items (EC2 split by how it is bought, unless ``how``
    names the purchase type: then all of it, on the first instance type bought so)."""
    spec = TEAMS[team]
    env = spec.environment if how.environment is None else how.environment
    purchase, experiment = how.purchase, how.experiment
    tagged = (day.isoformat(), team, spec.phase)
    if service != EC2:
        usage, model = OTHER_USAGE[service]
        return [(*tagged, f"{team}-{model}", spec.project, env, ON_DEMAND, usage, service, usd, 0.0, experiment)]
    split = INFERENCE_EC2 if spec.phase == "inference" else TRAINING_EC2
    if purchase is not None:
        bought, usage, model, _share, rate = next(s for s in split if s[0] == purchase)
        split = ((bought, usage, model, 1.0, rate),)
    return [
        (
            *tagged,
            f"{team}-{model}",
            spec.project,
            env,
            bought,
            usage,
            service,
            usd * share,
            usd * share / rate,
            experiment,
        )
        for bought, usage, model, share, rate in split
    ]


def _speech_pools(day: date) -> list[Row]:
    """speech's day in the pools story (``SPEECH_NOVEMBER``), split over the services like any of its days."""
    rows: list[Row] = []
    for environment, experiment, first, last, usd in SPEECH_NOVEMBER:
        if first <= day.day <= last:
            for service, share in SERVICES:
                rows += _team_rows(day, "speech", service, usd * share, how=Bought(None, environment, experiment))
    return rows


def _day_rows(day: date, rng: np.random.Generator) -> list[Row]:
    weekend = day.weekday() >= 5
    pools = day.replace(day=1) == SPEECH_POOL_DAY.replace(day=1) and day <= SPEECH_POOL_DAY
    rows: list[Row] = []
    for team, spec in TEAMS.items():
        total = spec.level_usd * (spec.weekend_factor if weekend else 1.0) * float(rng.normal(1.0, 0.05))
        if team == "speech" and pools:
            rows += _speech_pools(day)
            continue
        for service, share in SERVICES:
            rows += _team_rows(day, team, service, total * share)
    untagged = UNTAGGED_USD * (0.8 if weekend else 1.0)
    rows.append((day.isoformat(), "", "", "", "", "", ON_DEMAND, UNTAGGED_USAGE, EC2, untagged, 0.0, ""))
    return rows


@cache
def _bill(seed: int) -> pd.DataFrame:
    story = np.random.default_rng(seed)  # the cost chapter's days first: their draws are the story's numbers
    rows = [row for day in _days(STORY_FIRST, STORY_LAST) for row in _day_rows(day, story)]
    rest = np.random.default_rng(seed + 1)
    before, after = _days(FIRST_DAY, STORY_FIRST - timedelta(days=1)), _days(STORY_LAST + timedelta(days=1), LAST_DAY)
    rows += [row for day in (*before, *after) for row in _day_rows(day, rest)]
    for offset, team, service, purchase, usd in STORIES:
        rows += _team_rows(RUN_DAY + timedelta(days=offset), team, service, usd, how=Bought(purchase))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def bill(seed: int = 42) -> pd.DataFrame:
    """The bill's line items (``COLUMNS``), a copy: a chapter may filter it, never change the others' bill."""
    return _bill(seed).copy()


def month_total(month: str, seed: int = 42) -> pd.Series:
    """USD per team (``""``: untagged) in ``month`` (``YYYY-MM``): what the report and the digest must both say."""
    frame = _bill(seed)
    return frame.loc[frame["date"].str.startswith(month)].groupby("team")["cost"].sum()
