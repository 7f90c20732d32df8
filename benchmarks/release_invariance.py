"""Does the patch `chartfix fix` writes depend on the release name it renders with?

    python benchmarks/release_invariance.py TREE... [--json FILE]

For every target under each TREE with a finding (`chartfix check --format json`), run the
`chartfix fix` dry run three times: with no `--release`, with `--release r` and with
`--release a-much-longer-release-name-for-prod`, and compare the patches (the dry run's
standard output) byte for byte. The migration note is per release by design and is not
part of a dry run's patch. Prints one line per target whose patches differ, and per tree
the count of targets with identical patches. Runs `python -m chartfix` with the Python of
the running environment (PYTHONPATH chooses which chartfix). Not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RELEASES: tuple[tuple[str, ...], ...] = (
    (),
    ("--release", "r"),
    ("--release", "a-much-longer-release-name-for-prod"),
)
TIMEOUT = 900


def targets_with_findings(tree: Path) -> list[Path]:
    done = subprocess.run(
        [sys.executable, "-m", "chartfix", "check", "--format", "json", "-j", "1", str(tree)],
        capture_output=True, text=True, timeout=TIMEOUT * 4, check=False,
    )
    report = json.loads(done.stdout)
    return [Path(c["path"]) for c in report["charts"] if c.get("findings")]


def patches(target: Path) -> list[bytes]:
    out = []
    for release in RELEASES:
        done = subprocess.run(
            [sys.executable, "-m", "chartfix", "fix", "-j", "1", *release, str(target)],
            capture_output=True, timeout=TIMEOUT, check=False,
        )
        out.append(done.stdout)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, object]] = {}
    for tree in args.trees:
        found = targets_with_findings(tree)
        differ, patched = [], 0
        for target in found:
            runs = patches(target)
            patched += bool(runs[0])
            if len(set(runs)) > 1:
                differ.append(str(target))
                print(f"differs: {target}", flush=True)
        same = len(found) - len(differ)
        print(
            f"{tree}: {same} of {len(found)} targets with findings have identical patches "
            f"({patched} with a patch)", flush=True,
        )
        results[str(tree)] = {
            "targets": len(found), "identical": same, "with_patch": patched, "differ": differ,
        }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
