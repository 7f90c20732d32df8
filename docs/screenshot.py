"""Make the report's screenshots in docs/: the HTML page of a bulk dry run, in headless Chromium.

    .venv/bin/python docs/screenshot.py [OUT_DIR]

Copies a few of our fixtures into two scratch git repositories (remotes on a made-up host,
`acme/shop` and `acme/platform`: fixed, left, clean, warnings-only and broken charts), runs
`chartfix bulk --html` over them and opens the page with the DevTools client the tests use
(tests/chromium.py), light and dark:

- report-desktop-{light,dark}.png: 1280 x 900, the top of the page (summary, findings by
  rule, the charts table);
- report-phone-{light,dark}.png: 390 x 1300, the page opened at a chart's anchor
  (`report.html#cN`), as a link from a chat opens it on a phone.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
sys.path.insert(0, str(HERE.parent / "tests"))

from chromium import Browser  # noqa: E402

from chartfix.cli import main  # noqa: E402

REPOSITORIES = {
    "shop": ["legacy-server", "migration-shop", "clean", "rules-charts/scenarios"],
    "platform": ["volatile-one", "shared-selector", "peer-service", "two-kinds",
                 "broken/duplicate-object"],
}
"""Repository -> the fixtures it holds under charts/ (each under its last folder's name)."""
PHONE_CHART = "legacy-server"
"""The chart whose anchor the phone screenshots open: findings, a patch, a migration note."""
SIZES = {"desktop": (1280, 900), "phone": (390, 1300)}
"""CSS pixels; the phone's is a tall strip of its 390 px width: the chart's head and its patch."""


def scratch_repositories(base: Path) -> list[Path]:
    roots = []
    for name, fixtures in REPOSITORIES.items():
        root = base / name
        for fixture in fixtures:
            shutil.copytree(FIXTURES / fixture, root / "charts" / Path(fixture).name)
        for command in (["init", "-q", "-b", "main"],
                        ["remote", "add", "origin", f"https://git.example.com/acme/{name}.git"]):
            subprocess.run(["git", *command], cwd=root, check=True)
        roots.append(root)
    return roots


def make(out: Path) -> list[Path]:
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "report.html"
        roots = [root.name for root in scratch_repositories(Path(scratch))]
        with contextlib.chdir(scratch):  # the patches' paths: shop/charts/..., not /tmp/...
            main(["bulk", *roots, "-j", "1", "--html", str(page)])
        for device, (width, height) in SIZES.items():
            with Browser(width=width, height=height) as browser:
                for scheme in ("light", "dark"):
                    browser.color_scheme(scheme)
                    browser.open(page)
                    if device == "phone":
                        anchor = browser.eval(
                            "document.querySelector('#charts tr[data-id$=\"/"
                            f"{PHONE_CHART}\"]').dataset.section"
                        )
                        browser.open_at(page, anchor)
                    path = out / f"report-{device}-{scheme}.png"
                    browser.screenshot(path)
                    written.append(path)
    return written


if __name__ == "__main__":
    for path in make(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
