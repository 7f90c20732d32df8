"""`fix` tells the story: each fixed finding says what it was (what the Deployment overlapped,
where the Service routed) and names the hunks of the patch that fix it, by their headers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import CHARTFIX


def test_the_main_job_says_which_finding_each_hunk_fixes(chart_copy, tmp_path: Path) -> None:
    chart = chart_copy("legacy-server")
    done = subprocess.run(
        [*CHARTFIX, "fix", chart.name], cwd=chart.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    overlap = next(i for i, line in enumerate(lines) if "fixable: overlap Deployment/" in line)
    assert "Job/release-name-legacy-server-migration" in lines[overlap]
    assert "CronJob/release-name-legacy-server-cleanup" in lines[overlap]
    assert lines[overlap + 1] == (
        f"    in {chart.name}/templates/deployment.yaml @@ -12,6 +12,7 @@ @@ -20,6 +21,7 @@"
    )
    stray = next(i for i, line in enumerate(lines) if "fixable: stray Service/" in line)
    assert "routes port 8080 to the pods of" in lines[stray]
    assert lines[stray + 1] == f"    in {chart.name}/templates/service.yaml @@ -16,4 +16,5 @@"

    # every hunk named is a hunk of the patch, and every hunk of the patch is named
    named = set(re.findall(r"@@ [^@]+ @@", done.stderr))
    assert named == set(re.findall(r"^(@@ [^@]+ @@)", done.stdout, re.M))
