"""What notes and PR texts say, where a chart maintainer read it wrong or self-contradictory:
how long a PDB refuses evictions, how relabelled pods come back, whose names an object
carries, a PR with nothing breaking, a rollout that stops a single replica."""

from __future__ import annotations

from pathlib import Path

from chartfix.pipeline import FixRequest, fix_target
from chartfix.publish.migration.text import migration_note
from chartfix.publish.prbody import ChartEntry, branch_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_a_pdb_over_hook_job_pods_delays_drains_it_does_not_hang_them() -> None:
    change = fix_target(FIXTURES / "hook-jobs-helper", FixRequest())
    said = " ".join(f.message for f in change.fixed)
    assert ("refuses evictions while pods of Job/release-name-hook-jobs-helper-create, "
            "Job/release-name-hook-jobs-helper-patch exist") in said
    assert "(a Helm hook's pods, short-lived: node drains are delayed while they exist, " \
        "not hung)" in said
    assert "hang" not in said


def test_relabelled_pods_are_said_to_come_back_the_way_their_kind_does() -> None:
    change = fix_target(FIXTURES / "safe-routes", FixRequest(safe_only=True))
    (note,) = [n for n in change.notes if "values of their own" in n]
    assert ("(a CronJob creates its Jobs anew on each run; Helm recreates its hook Jobs; each "
            "`helm test` creates its test Pods anew: no immutable field of theirs changes)"
            ) in note
    hooks = fix_target(FIXTURES / "hook-jobs-helper", FixRequest())
    (only_jobs,) = [n for n in hooks.notes if "values of their own" in n]
    assert "(Helm recreates its hook Jobs: no immutable field" in only_jobs
    assert "CronJob" not in only_jobs and "test Pod" not in only_jobs


def test_objects_named_by_other_values_say_which() -> None:
    """hook-jobs-scenario: the Job renders only with certgen.enabled, the Deployment with
    the defaults: each name says which values rendered it."""
    change = fix_target(FIXTURES / "hook-jobs-scenario", FixRequest(fix_latent=True))
    (note,) = [n for n in change.notes if "values of their own" in n]
    assert note.startswith(
        "the other pods the selector of Deployment/release-name-hook-jobs-scenario (as the "
        "default values render it) matches get values of their own: "
        "Job/release-name-hook-jobs-scenario-create (as the values of `feature: "
        "certgen.enabled=true` render it) gets "
    )


def test_a_pr_with_nothing_breaking_does_not_explain_breaking() -> None:
    change = fix_target(FIXTURES / "hook-jobs-helper", FixRequest(release="shop",
                                                                  namespace="prod"))
    body = branch_body([ChartEntry(change, "2 files changed")], "shop", "prod")
    assert "; none is breaking (no immutable field changes)." in body
    assert "0 are breaking" not in body and "an immutable field changes" not in body


def test_a_single_replica_statefulset_rollout_is_said_to_stop_it() -> None:
    change = fix_target(FIXTURES / "peer-service", FixRequest(fix_latent=True, release="shop",
                                                              namespace="prod"))
    safe = migration_note(change, "shop", "prod").split("(safe)")[1]
    assert ("- StatefulSet `shop-peer-service-master`: pod labels change; a rolling update, "
            "with downtime: its single replica is stopped before the new one starts.") in safe
    assert ("- StatefulSet `shop-peer-service-executor-default`: pod labels change; a normal "
            "rolling update.") in safe
