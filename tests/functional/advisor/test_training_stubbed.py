"""SageMaker training jobs in the purchase mix, through botocore's Stubber (moto's ``Search`` does not evaluate the
``CreationTime`` comparison the window needs). Fixtures: ``Search`` results in the real ``TrainingJob`` shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.sagemaker_training import PAGE_SIZE, TrainingJobs
from costwarden.advisor.savings import team_savings
from costwarden.advisor.training import NEEDS_CHECKPOINTING
from costwarden.services.advisor.mix import run_mix

from .stubs import fixture, stub_mix_reads, stubbed_clients
from .test_commitments_stubbed import SETTINGS, TODAY

NOW = datetime(2026, 12, 2, 6, tzinfo=UTC)
TIMES = ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime")


def search_page(name: str) -> dict[str, Any]:
    page = fixture(name)
    for result in page["Results"]:
        job = result["TrainingJob"]
        for key in TIMES:
            job[key] = datetime.fromisoformat(job[key].replace("Z", "+00:00"))
    return page


def search_params(token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Resource": "TrainingJob",
        "SearchExpression": {
            "Filters": [
                {"Name": "CreationTime", "Operator": "GreaterThanOrEqualTo", "Value": "2026-11-02T00:00:00+00:00"}
            ]
        },
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": PAGE_SIZE,
    }
    return params if token is None else {**params, "NextToken": token}


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, ...]]:
    with stubbed_clients("ce", "ec2", "sagemaker") as (clients, stubs):
        yield (*clients, *stubs)


def run(stubbed: Any, discount: float | None) -> Any:
    ce, ec2, sm, ce_stub, ec2_stub, sm_stub = stubbed
    stub_mix_reads(ce_stub, ec2_stub)
    sm_stub.add_response("search", search_page("sagemaker_search.training_jobs.page1.json"), search_params())
    sm_stub.add_response(
        "search", search_page("sagemaker_search.training_jobs.page2.json"), search_params("eyJvZmZzZXQiOjN9")
    )
    settings = SETTINGS.model_copy(update={"advisor": SETTINGS.advisor.model_copy(update={"spot_discount": discount})})
    training = TrainingJobs("us-east-1", sagemaker=sm)
    result = run_mix(
        settings, CostExplorer(client=ce), SpotPrices("us-east-1", ec2=ec2), today=TODAY, now=NOW, training=training
    )
    return result


def test_managed_spot_jobs_count_in_the_training_spot_share_and_on_demand_jobs_are_named(stubbed: Any) -> None:
    result = run(stubbed, 0.7)
    teams = {t["team"]: t for t in result.to_dict()["teams"]}
    vision = teams["vision"]["training_jobs"]
    # The job created before the window (2026-10-01) is left out: 3 jobs, 45 instance-hours, 20 of them on spot.
    assert (vision["jobs"], vision["managed_spot_jobs"]) == (3, 1)
    assert vision["spot_share_pct"] == pytest.approx(100 * 20 / 45, abs=0.1)
    named = {j["job"]: j for j in vision["on_demand_jobs"]}
    assert set(named) == {"vision-resnet50-ckpt-2026-11-28", "vision-bert-sweep-7-2026-11-25"}
    ckpt = named["vision-resnet50-ckpt-2026-11-28"]
    # 2 instances x 10 h at the team's measured Train:ml.p3.2xlarge rate (382.5 USD / 100 h), spot at 30 % x 1.1.
    assert ckpt["instance_family"] == "p3" and ckpt["instance_hours"] == 20
    assert ckpt["on_demand_usd"] == pytest.approx(76.5) and ckpt["spot_usd"] == pytest.approx(25.25, abs=0.01)
    assert ckpt["recommendation"] == "managed spot" and ckpt["savings_counted"] is True
    # No CheckpointConfig: named as needing checkpoint-and-restart, its saving shown but never counted.
    nockpt = named["vision-bert-sweep-7-2026-11-25"]
    assert nockpt["recommendation"] == NEEDS_CHECKPOINTING and nockpt["checkpointing"] is False
    assert nockpt["savings_usd"] == pytest.approx(12.81, abs=0.01) and nockpt["savings_counted"] is False
    assert vision["could_save_usd"] == pytest.approx(51.26, abs=0.01)
    assert vision["instance_families"] == {"p3": pytest.approx(51.26, abs=0.01)}
    # Cost Explorer's aggregate Train:ml.p3.2xlarge candidate is superseded by the jobs (not counted twice).
    kinds = [(c["kind"], c["instance_type"]) for c in teams["vision"]["on_demand_that_could_be_spot"]]
    assert ("sagemaker", "ml.p3.2xlarge") not in kinds and ("ec2", "p3.8xlarge") in kinds
    assert teams["vision"]["could_save_usd"] == pytest.approx(3268.0 + 51.26, abs=0.01)
    # No Train:ml.p4d.24xlarge spend for nlp in Cost Explorer: no rate, so null with the reason.
    [llm] = teams["nlp"]["training_jobs"]["on_demand_jobs"]
    assert llm["on_demand_usd"] is None and llm["savings_usd"] is None
    assert "no on-demand Train:ml.p4d.24xlarge usage" in llm["priced_by"]
    # An untagged managed-spot job counts for "unowned"; requests grow with pages: 2 Search pages for 6 jobs.
    assert teams["unowned"]["training_jobs"]["managed_spot_jobs"] == 1
    assert result.sagemaker_requests == 2 and result.ce_requests == 2 and not result.errors
    lines = team_savings([], result.teams, mix_days=30)["vision"][1]
    assert any("training job vision-resnet50-ckpt-2026-11-28" in line for line in lines)
    assert not any("vision-bert-sweep-7" in line for line in lines)


def test_without_a_discount_the_jobs_are_named_without_a_price(stubbed: Any) -> None:
    result = run(stubbed, None)
    vision = next(t for t in result.teams if t.team == "vision")
    assert vision.training is not None
    assert [c.to_dict()["spot_usd"] for c in vision.training.candidates] == [None, None]
    assert all("no configured discount" in c.priced_by for c in vision.training.candidates)
    assert vision.could_save_usd == pytest.approx(3268.0)


def test_a_refused_search_is_reported_and_the_cost_explorer_mix_stands(stubbed: Any) -> None:
    ce, ec2, sm, ce_stub, ec2_stub, sm_stub = stubbed
    stub_mix_reads(ce_stub, ec2_stub)
    sm_stub.add_client_error("search", "AccessDeniedException", "not authorized to perform: sagemaker:Search")
    training = TrainingJobs("us-east-1", sagemaker=sm)
    result = run_mix(
        SETTINGS, CostExplorer(client=ce), SpotPrices("us-east-1", ec2=ec2), today=TODAY, now=NOW, training=training
    )
    assert [e for e in result.errors if e.startswith("training jobs: ClientError")]
    vision = next(t for t in result.teams if t.team == "vision")
    assert vision.training is None and any(c.kind == "sagemaker" for c in vision.candidates)


def test_the_page_cap_stops_and_says_so(stubbed: Any) -> None:
    _, _, sm, _, _, sm_stub = stubbed
    sm_stub.add_response("search", search_page("sagemaker_search.training_jobs.page1.json"), search_params())
    reader = TrainingJobs("us-east-1", sagemaker=sm, max_pages=1)
    jobs, cut = reader.since(datetime(2026, 11, 2, tzinfo=UTC))
    assert len(jobs) == 3 and cut is True and reader.requests == 1


def test_the_table_names_the_jobs_and_says_which_savings_are_not_counted(
    stubbed: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from costwarden.cli.advise import _print_tables

    result = run(stubbed, 0.7)
    commitments = {"commitments": [], "alerts": [], "recommendations": []}
    storage = {"findings": [], "decisions": []}
    data = {"savings_on_the_table_usd_month": 0, "teams": {}, "storage": storage, "commitments": commitments}
    _print_tables({**data, "purchase_mix": result.to_dict()})
    out = capsys.readouterr().out
    assert "training jobs: 3, 1 on managed spot (44.4 %)" in out
    assert (
        "job vision-resnet50-ckpt-2026-11-28 (ml.p3.2xlarge x2, 20.0 instance-h): managed spot, saves $51.25\n" in out
    )
    assert f"job vision-bert-sweep-7-2026-11-25 (ml.p3.2xlarge x1, 5.0 instance-h): {NEEDS_CHECKPOINTING}" in out
    assert "saves $12.81 (not counted: no checkpointing)" in out
    assert "job nlp-llama-ft-2026-11-10 (ml.p4d.24xlarge x1, 1.0 instance-h): managed spot, saves -\n" in out
