"""Cloud Custodian in its own virtual environment, pinned: ``.build/peer/c7n`` (the repo's ignored build folder).

Made with the project's uv (``PEER_UV``, which ``make bench-peer`` sets to the Makefile's ``$(UV)``; else ``uv`` on
PATH; else ``.build/uv/bin/uv``) from the dev venv's base Python, with ``--compile-bytecode`` as ``make dev`` does
for the dev venv (no tool pays for compiling its imports on its first run). Idempotent: nothing runs when the
pinned version is installed. Any failure is a ``PeerSetupError`` with the reason (the harness exits 2 on it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PIN_NAME, PIN_VERSION = "c7n", "0.9.53"
PIN = f"{PIN_NAME}=={PIN_VERSION}"


class PeerSetupError(Exception):
    """The peer benchmark cannot run here (no uv, no Custodian, no server): the message says what and how to fix."""


def venv_dir(root: Path) -> Path:
    return root / ".build" / "peer" / "c7n"


def installed(venv: Path) -> bool:
    """True when the venv's interpreter and the pinned distribution (its ``dist-info``) are both there."""
    python = venv / "bin" / "python"
    return python.exists() and any(venv.glob(f"lib/python3*/site-packages/{PIN_NAME}-{PIN_VERSION}.dist-info"))


def find_uv(root: Path) -> str:
    """The uv to use (module docstring), or ``PeerSetupError`` naming where it looked."""
    candidates = [os.environ.get("PEER_UV", ""), shutil.which("uv") or "", str(root / ".build" / "uv" / "bin" / "uv")]
    for candidate in candidates:
        if candidate and (Path(candidate).exists() or shutil.which(candidate)):
            return candidate
    raise PeerSetupError(
        "uv not found (PEER_UV, PATH, .build/uv/bin/uv): run `make bench-peer`, which installs it, or set PEER_UV"
    )


def _run(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PeerSetupError(f"{what} failed: {error}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PeerSetupError(f"{what} failed (exit {done.returncode}): {' / '.join(tail) or 'no output'}")


def ensure_custodian(root: Path) -> Path:
    """The ``custodian`` executable of the pinned venv, creating or repairing the venv first when needed."""
    venv = venv_dir(root)
    if not installed(venv):
        uv = find_uv(root)
        base = Path(getattr(sys, "_base_executable", sys.executable))
        if not (venv / "bin" / "python").exists():
            _run([uv, "venv", "--quiet", "--clear", "-p", str(base), str(venv)], f"uv venv {venv}")
        _run(
            [uv, "pip", "install", "--quiet", "--compile-bytecode", "-p", str(venv / "bin" / "python"), PIN],
            f"uv pip install {PIN}",
        )
        if not installed(venv):
            raise PeerSetupError(f"{PIN} is not in {venv} after installing it")
    custodian = venv / "bin" / "custodian"
    if not custodian.exists():
        raise PeerSetupError(f"{custodian} is missing: remove {venv} and run again")
    return custodian
