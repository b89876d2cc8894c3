"""The monthly report in a real browser (headless Chromium, Debian's package): at a laptop's 1280 px and a phone's
420 px no element reaches outside the viewport (charts scale, tables scroll inside their own box), and a page built
to overflow is caught, so the check can fail. Screenshots of both widths are left beside the demo's output.

Skips, with its reason, only where no Chromium is installed (``.ci/run`` installs it when missing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import chromium, overflow

pytestmark = pytest.mark.e2e

DemoRun = tuple[int, Path, str]
WIDTHS = (1280, 420)


@pytest.fixture(scope="module")
def browser() -> str:
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run does it when missing)")
    return path


def test_a_page_that_overflows_is_caught(browser: str, tmp_path: Path) -> None:
    page = "<!DOCTYPE html><html><body><p>fits</p><div class='wide' style='width:900px'>too wide</div></body></html>"
    verdict = overflow(browser, page, 420, tmp_path)
    assert verdict["viewport"] == 420
    assert [(e["tag"], e["cls"], e["right"]) for e in verdict["overflowing"]] == [("div", "wide", 908)]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_element_of_the_report_overflows_the_viewport(browser: str, demo: DemoRun, width: int) -> None:
    code, out, printed = demo
    assert code == 0, printed
    html = (out / "report-2026-11.html").read_text(encoding="utf-8")
    shot = out / f"report-2026-11-{width}px.png"
    verdict = overflow(browser, html, width, out, screenshot=shot)
    assert verdict["viewport"] == width and verdict["innerWidth"] == width
    assert verdict["overflowing"] == [], verdict["overflowing"][:5]
    assert verdict["scrollWidth"] == width  # the page itself never scrolls sideways
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
