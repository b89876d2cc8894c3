"""Every README command marked runnable runs as written (issue 6: "every command the README shows runs").

The convention, for whoever edits README.md:

- A fenced block whose info string is ``bash runnable`` (that is, opened with ```` ```bash runnable ````) is run by
  this test; any other block (plain ``bash``, ``console``, ``json``, ...) is documentation only. Mark a block
  runnable when a newcomer could paste it into a fresh clone after ``make dev`` and expect it to work offline.
- Each runnable block runs as one ``bash`` script (``set -euo pipefail``: every command must exit 0) in the
  repository root, with ``.venv/bin`` first on ``PATH``, within ``TIMEOUT_SECONDS``.
- It runs against a simulated AWS only: a moto server on 127.0.0.1 (``AWS_ENDPOINT_URL``), fake credentials, no
  profile, the instance metadata service disabled, ``CI=true``. A block that needs a real account (``cdk deploy``,
  ``cdk bootstrap``, ``aws secretsmanager create-secret`` ...) must not be marked runnable.
- Runnable blocks must not run the test suite or the demo through ``make`` (``make test``, ``make demo``,
  ``make e2e`` ...): that would recurse into this test or take minutes. ``make demo`` and ``make test`` are the
  README's two headline commands and are covered by their own tests and by CI itself; this test fails if a
  runnable block contains a forbidden command, naming it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TIMEOUT_SECONDS = 120
RUNNABLE_INFO = ("bash", "runnable")
#: Commands a runnable block must not contain (recursion into the suite, minutes-long runs, real accounts).
FORBIDDEN = (
    re.compile(r"\bmake\s+(?:[\w=.-]+\s+)*(test|demo|e2e|functional|unit|infra-tests|bench|synth|cfn-lint)\b"),
    re.compile(r"\bcdk\s+(deploy|bootstrap|destroy)\b"),
    re.compile(r"\.ci/run\b"),
)
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    info: tuple[str, ...]
    code: str

    @property
    def runnable(self) -> bool:
        return self.info[:2] == RUNNABLE_INFO


def fenced_blocks(text: str) -> Iterator[Block]:
    """Fenced code blocks (CommonMark: a closing fence of the same character, at least as long)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence = match["fence"]
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                break
            body.append(lines[index])
            index += 1
        yield Block(line=start + 1, info=tuple(match["info"].split()), code="\n".join(body))
        index += 1


def runnable_blocks(text: str) -> list[Block]:
    return [block for block in fenced_blocks(text) if block.runnable]


def forbidden_commands(code: str) -> list[str]:
    return [match.group(0) for pattern in FORBIDDEN for match in pattern.finditer(code)]


# --- the convention itself, on a sample (fast, no subprocess) ---------------------------------------------------


def test_only_bash_runnable_blocks_are_picked() -> None:
    sample = "\n".join(
        [
            "# Title",
            "```bash",
            "make demo",
            "```",
            "```bash runnable",
            "costwarden --help",
            "echo ok",
            "```",
            "````bash runnable",
            "echo '```'",
            "````",
            "```json",
            '{"a": 1}',
            "```",
            "```console runnable",
            "$ not bash",
            "```",
        ]
    )
    blocks = runnable_blocks(sample)
    assert [(b.line, b.code) for b in blocks] == [(5, "costwarden --help\necho ok"), (9, "echo '```'")]
    assert len(list(fenced_blocks(sample))) == 5


@pytest.mark.parametrize(
    ("code", "forbidden"),
    [
        ("make test", ["make test"]),
        ("make -j2 demo", ["make -j2 demo"]),
        ("make PYTHON=python3.12 e2e", ["make PYTHON=python3.12 e2e"]),
        ("npx cdk deploy", ["cdk deploy"]),
        ("make dev\ncostwarden config-doc", []),
        ("costwarden demo --out /tmp/x", []),
    ],
)
def test_forbidden_commands_are_recognised(code: str, forbidden: list[str]) -> None:
    assert forbidden_commands(code) == forbidden


# --- the README -----------------------------------------------------------------------------------------------------

_README_BLOCKS = runnable_blocks(README.read_text(encoding="utf-8"))


def test_readme_has_runnable_blocks() -> None:
    assert _README_BLOCKS, "README.md has no ```bash runnable blocks; the commands it shows would go untested"


@pytest.fixture(scope="module")
def simulated_aws() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _environment(endpoint: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "COSTWARDEN_", "PYTEST_", "SLACK_")) and key not in {"ALERT_TOPIC_ARN"}
    }
    env.update(
        {
            "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "CI": "true",
            "NO_COLOR": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        }
    )
    return env


@pytest.mark.parametrize("block", _README_BLOCKS, ids=[f"README.md:{b.line}" for b in _README_BLOCKS])
def test_readme_runnable_block(block: Block, simulated_aws: str) -> None:
    forbidden = forbidden_commands(block.code)
    assert not forbidden, (
        f"README.md:{block.line}: a ```bash runnable block must not run {forbidden} (see tests/e2e/test_readme.py)"
    )
    script = "set -euo pipefail\n" + block.code + "\n"
    try:
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=ROOT,
            env=_environment(simulated_aws),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"README.md:{block.line}: did not finish within {TIMEOUT_SECONDS} s:\n{block.code}")
    assert result.returncode == 0, (
        f"README.md:{block.line}: exit {result.returncode} running:\n{block.code}\n"
        f"--- stdout (tail)\n{result.stdout[-3000:]}\n--- stderr (tail)\n{result.stderr[-3000:]}\n"
        f"(as a shell line: bash -c {shlex.quote(script)})"
    )
