"""``costwarden idle`` on moto: the JSON shape the issue names, exit codes, hostile arguments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from costwarden.cli.main import main
from moto.ec2.models import ec2_backends

from tests.functional.idle.idle_env import IdleAccount, constant
from tests.functional.reaper.reaper_env import ACCOUNT

KEYS = {"arn", "id", "type", "region", "team", "kind", "monthly_usd", "evidence", "recommendation"}


def age(idle_account: IdleAccount, instance_id: str | None = None, volume_id: str | None = None) -> None:
    """The CLI scans at the real now: make moto's resources 10 days old (moto stamps them with the real clock)."""
    backend = ec2_backends[ACCOUNT]["us-east-1"]
    then = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=10)
    if instance_id:
        backend.get_instance(instance_id).launch_time = then
    if volume_id:
        backend.volumes[volume_id].create_time = then


def test_json_is_a_list_of_findings_with_the_named_keys(
    idle_account: IdleAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    real_now = datetime.now(UTC)
    idle = idle_account.box("m5.xlarge", team="search", environment="development")
    busy = idle_account.box("m5.xlarge", team="search", environment="development")
    volume = idle_account.volume(team="data", environment="development")
    for box in (idle, busy):
        age(idle_account, instance_id=box)
    age(idle_account, volume_id=volume)
    idle_account.cpu(idle, constant(1.0), end=real_now)
    idle_account.cpu(busy, constant(70.0), end=real_now)
    assert main(["idle", "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["results"]
    assert isinstance(rows, list) and all(set(row) >= KEYS for row in rows)
    found = {(r["id"], r["kind"], r["type"], r["team"]) for r in rows}
    assert found == {(idle, "idle", "ec2:instance", "search"), (volume, "unattached", "ec2:volume", "data")}
    assert all(r["monthly_usd"] is None and r["price_note"] for r in rows)  # no Price List in moto: null + reason
    assert "metric requests: GetMetricData 1" in captured.err
    assert main(["idle", "--lookback-days", "3"]) == 0
    table = capsys.readouterr().out
    assert "USD/MONTH" in table and idle in table and volume in table and busy not in table


def test_nothing_found_exits_zero(idle_account: IdleAccount, capsys: pytest.CaptureFixture[str]) -> None:
    box = idle_account.box("m5.xlarge", team="search")
    idle_account.cpu(box, constant(90.0))
    assert main(["idle", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["idle", "--regions", "us-east-1,mars"], "mars is not a region name"),
        (["idle", "--regions", ","], "is not a region name"),
        (["idle", "--lookback-days", "0"], "--lookback-days"),
        (["idle", "--lookback-days", "31"], "--lookback-days"),
    ],
)
def test_bad_arguments_exit_2_without_a_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_non_numeric_lookback_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["idle", "--lookback-days", "seven"])
    assert exit_info.value.code == 2
