"""How a fix run's verified changes land: frozen options the command builds once from its
command line (`commands/fixing.py`), so that publishing never sees the argparse namespace and
nothing changes them on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from chartfix.publish.releases import Release

if TYPE_CHECKING:
    from chartfix.publish.bump import Level
    from chartfix.publish.migration.placement import NoteTarget

DEFAULT_RELEASES = (Release("release-name", "default"),)


@dataclass(frozen=True)
class PublishOptions:
    """A dry run (the default), `--write`, or `--branch` with its push, note, bump, PR body
    and pull request settings."""

    releases: tuple[Release, ...] = DEFAULT_RELEASES
    """Every release the chart runs as (`--release` repeated, `--releases FILE`); the first
    is the one rendered."""
    write: bool = False
    branch: str | None = None
    """The branch name with `{recipe}` filled in (`{chart}` kept: one branch per chart);
    None: no branch."""
    bump: Level | Literal["auto"] = "auto"
    note_target: NoteTarget = "auto"
    push: str | None = None
    """The remote the branch is pushed to."""
    pr_body: Path | None = None
    pr_body_dir: Path | None = None
    """bulk: one PR description per branch, in this folder."""
    branch_per_chart: bool = False
    charts_per_pr: int | None = None
    open_pr: bool = False
    forge: str | None = None
    forge_api: str | None = None
    pr_base: str | None = None
    draft: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()

    @property
    def release(self) -> str:
        """The rendered release's name."""
        return self.releases[0].name

    @property
    def namespace(self) -> str:
        return self.releases[0].namespace
