"""What the end-to-end modules share: one whole demo run per pytest worker, and a one-chapter demo on a fresh account.

The whole demo (every chapter on a local moto server and the Slack stand-in) takes a large part of the suite's time,
and several modules only read what it printed and wrote: they share the session-scoped ``demo`` fixture, run once
per worker (``pytest -n 2 --dist loadfile``: at most once on each) into a temporary folder. A module that wants one
chapter on an empty account (the tag audit's, the idle finder's) asks ``run_chapter`` instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from costwarden.demo.runner import CHAPTERS, run_demo

#: What a demo run gives a test: its exit code, its output folder, what it printed.
DemoRun = tuple[int, Path, str]


def _reset_moto() -> None:
    """ThreadedMotoServer keeps moto's process-wide backends: a demo would find an earlier one's table and topics."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``costwarden demo`` once, every chapter: ``(exit code, out folder, printed text)``; read it, never change it."""
    _reset_moto()
    out = tmp_path_factory.mktemp("demo-out")
    printed = io.StringIO()
    try:
        code = run_demo(out, stream=printed)
    finally:
        _reset_moto()
    return code, out, printed.getvalue()


@pytest.fixture
def run_chapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], DemoRun]]:
    """``run_chapter("costwarden.demo.tags.chapter")``: only that chapter of the demo, on an empty account, into
    this test's ``tmp_path``; moto's state is reset before and after, so it runs in any order with the others."""

    def run(dotted: str) -> DemoRun:
        monkeypatch.setattr("costwarden.demo.runner.CHAPTERS", [c for c in CHAPTERS if c[1] == dotted])
        printed = io.StringIO()
        code = run_demo(tmp_path, stream=printed)
        return code, tmp_path, printed.getvalue()

    _reset_moto()
    yield run
    _reset_moto()
