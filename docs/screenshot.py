"""Make docs/report.png: the HTML report of a bulk dry run over fixtures/, in headless Chromium.

    .venv/bin/python docs/screenshot.py

Runs `chartfix bulk fixtures --html` into a scratch directory, opens the page with the
DevTools client the tests use (tests/chromium.py) and captures the top of the page
(summary, bar chart, table) at 1280x1000.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from chromium import Browser  # noqa: E402

from chartfix.cli import main  # noqa: E402


def make(out: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "report.html"
        main(["bulk", str(HERE.parent / "fixtures"), "-j", "2", "--html", str(page)])
        with Browser(width=1280, height=1000) as browser:
            browser.open(page)
            browser.screenshot(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    make(HERE / "report.png")
