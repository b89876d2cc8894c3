"""Progress on long runs (``cli/progress.py``): lines on stderr when it is a terminal, nothing when it is not."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
from costwarden.cli import progress
from costwarden.cli.main import main
from moto import mock_aws


class FakeTTY(io.StringIO):
    """stderr as a terminal would be: ``isatty()`` is true."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_one_line_per_region_after_the_delay_and_throttled_within_one() -> None:
    stream, clock = FakeTTY(), Clock()
    shown = progress.Progress("reap", stream, clock)
    shown.request("ec2", "us-east-1", "DescribeInstances")  # at 0 s: a short run says nothing
    clock.now += progress.DELAY_SECONDS
    shown.request("ec2", "us-east-1", "DescribeInstances")
    shown.request("ec2", "us-east-1", "DescribeInstances")  # same region, within the interval: throttled
    shown.request("tagging", "eu-west-1", "GetResources")  # a new region: always a line
    clock.now += progress.INTERVAL_SECONDS
    shown.request("tagging", "eu-west-1", "GetResources")
    assert stream.getvalue().splitlines() == [
        "costwarden reap: 3 s, us-east-1: ec2 DescribeInstances (request 2)",
        "costwarden reap: 3 s, eu-west-1: tagging GetResources (request 4)",
        "costwarden reap: 4 s, eu-west-1: tagging GetResources (request 5)",
    ]


def test_accounts_are_steps_too() -> None:
    stream, clock = FakeTTY(), Clock()
    shown = progress.Progress("tags audit", stream, clock)
    clock.now += progress.DELAY_SECONDS + 2
    shown.step("account 111111111111 us-east-1", "1 of 2")
    shown.step("account 222222222222 us-east-1", "2 of 2")
    assert stream.getvalue().splitlines() == [
        "costwarden tags audit: 5 s, account 111111111111 us-east-1: 1 of 2",
        "costwarden tags audit: 5 s, account 222222222222 us-east-1: 2 of 2",
    ]


def test_not_a_terminal_nothing_however_long() -> None:
    stream, clock = io.StringIO(), Clock()
    shown = progress.Progress("reap", stream, clock)
    clock.now += 1000
    shown.request("ec2", "us-east-1", "DescribeInstances")
    shown.step("account 111111111111 us-east-1")
    assert stream.getvalue() == ""


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty moto account, and runs treated as long from their first request."""
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps({"reaper": {"regions": ["us-east-1"]}}))
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    with mock_aws():
        yield


@pytest.mark.usefixtures("account")
def test_reap_on_a_terminal_shows_its_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = FakeTTY()
    monkeypatch.setattr("sys.stderr", stderr)
    assert main(["reap", "--format", "json"]) == 0
    lines = [line for line in stderr.getvalue().splitlines() if re.fullmatch(r"costwarden reap: \d+ s, .*", line)]
    assert lines, stderr.getvalue()
    assert re.fullmatch(r"costwarden reap: \d+ s, us-east-1: [a-z0-9]+ [A-Za-z]+ \(request 1\)", lines[0])


@pytest.mark.usefixtures("account")
def test_reap_without_a_terminal_shows_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reap", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert " s, us-east-1: " not in err
    assert json.loads(out)["command"] == "reap"  # stdout is the envelope alone
