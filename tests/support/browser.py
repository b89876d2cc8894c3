"""Headless Chromium (Debian's package) for page checks, without a Python browser driver.

A copy of the page gets a small script that measures, once the page is laid out, which elements reach outside the
viewport, and writes its verdict as JSON into the DOM; ``chromium --dump-dom`` prints the DOM, the verdict is read
back from it. ``--screenshot`` takes the PNG of the same width. The page is laid out in an iframe of the exact
width (headless Chromium's window is at least 500 px wide): the viewport the page's media queries see. The flags
are the ones this machine needs (no background networking: its connections are refused; a fresh profile each run).

An element inside a box that scrolls sideways (``overflow-x: auto|scroll``) may be wider than the viewport: the box
clips it and scrolls; the box itself must fit. The shapes inside an SVG are clipped by it: the SVG must fit.
Everything else must lie within ``[0, viewport width]``.
"""

from __future__ import annotations

import html as html_module
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
VERDICT_ID = "costwarden-overflow-verdict"
#: Headless Chromium opens no window narrower than 500 px: a phone's width is an iframe of that width inside it.
MIN_WINDOW = 500
FRAME_HEIGHT = 2400

_MEASURE = """<script>
(function () {
  var vw = document.documentElement.clientWidth, out = [];
  function scrolls(el) {
    for (var p = el.parentElement; p; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  }
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.id === "__VERDICT__" || el.ownerSVGElement || scrolls(el)) return;
    var r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.left < -0.5 || r.right > vw + 0.5) {
      out.push({tag: el.tagName.toLowerCase(), cls: String(el.className && el.className.baseVal !== undefined
        ? el.className.baseVal : el.className), left: Math.round(r.left), right: Math.round(r.right),
        text: (el.textContent || "").trim().slice(0, 60)});
    }
  });
  var host = window.parent.document, pre = host.createElement("pre");
  pre.id = "__VERDICT__";
  pre.textContent = JSON.stringify({viewport: vw, innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth, overflowing: out});
  host.body.appendChild(pre);
})();
</script>""".replace("__VERDICT__", VERDICT_ID)


def chromium() -> str | None:
    """The browser's path, or None when none is installed (``.ci/run`` installs Debian's ``chromium``)."""
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _run(browser: str, page: Path, width: int, *extra: str) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(
            [
                browser,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={max(width, MIN_WINDOW) + 20},{FRAME_HEIGHT}",
                *extra,
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-800:]}")
    return done.stdout


def _framed(html: str, width: int) -> str:
    """``html`` in an iframe exactly ``width`` CSS pixels wide (its own viewport: media queries see ``width``).
    ``srcdoc`` keeps the frame in the host's origin, so the frame's script can write into the host page."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;display:block}'
        f'</style></head><body><iframe width="{width}" height="{FRAME_HEIGHT}" '
        f'srcdoc="{html_module.escape(html, quote=True)}"></iframe></body></html>'
    )


def overflow(browser: str, html: str, width: int, workdir: Path, *, screenshot: Path | None = None) -> dict[str, Any]:
    """Lay ``html`` out at ``width`` CSS pixels; the verdict: viewport, scrollWidth and the overflowing elements."""
    page = workdir / f"measured-{width}.html"
    page.write_text(_framed(html.replace("</body>", _MEASURE + "</body>", 1), width), encoding="utf-8")
    dom = _run(browser, page, width, "--dump-dom", "--virtual-time-budget=3000")
    found = re.search(rf'<pre id="{VERDICT_ID}">(.*?)</pre>', dom, re.S)
    if found is None:
        raise RuntimeError(f"no verdict in the dumped DOM ({len(dom)} characters): did the script run?")
    verdict: dict[str, Any] = json.loads(html_module.unescape(found.group(1)))
    if screenshot is not None:
        plain = workdir / f"plain-{width}.html"
        plain.write_text(_framed(html, width), encoding="utf-8")
        _run(browser, plain, width, f"--screenshot={screenshot}")
    return verdict
