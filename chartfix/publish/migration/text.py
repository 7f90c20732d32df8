"""The migration note in Markdown: the steps (`steps.MigrationSteps`) in the order a reader
runs them, in the words of the target's kind (`KindFacts.words`), with the kubectl lines.

A released target (a Helm chart) gets a note per release (`migration_note`; several releases
or a GitOps controller: `releases_note`); a target applied as YAML gets `applied_note`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from chartfix.files import repository_root
from chartfix.model.changes import TargetChange
from chartfix.model.kinds import Words
from chartfix.model.objects import K8sObject
from chartfix.publish.bump import default_version
from chartfix.publish.migration.kubectl import quote
from chartfix.publish.migration.steps import (
    MigrationSteps,
    migration_steps,
    other_scenarios,
    release_steps,
    scenario_changes,
)
from chartfix.publish.releases import Release
from chartfix.rules.synthesized import placeholders


def migration_note(
    change: TargetChange,
    release: str,
    namespace: str,
    *,
    version: str | None = None,
    chart_ref: str | None = None,
    heading_level: int = 2,
    title: str | None = None,
    manager: Release | None = None,
    portable: bool = False,
) -> str:
    """The Markdown note for upgrading release `release` in `namespace` over this change
    (`manager`: what deploys it, when not the Helm CLI: Argo CD, Flux, helmfile).
    `portable`: for a file the chart carries (README.md, MIGRATION.md), read by every user:
    the release and namespace are `$RELEASE` and `$NAMESPACE`, set once at the top, and
    `release` and `namespace` only what the objects were rendered with (unless the release's
    name and the chart's hold one another: then no word tells them apart, and the note names
    the rendered release as a note for one release does).

    `version` is the chart's new version (for `helm upgrade --version`; default: the version
    the default bump gives), `chart_ref` how the user installs the chart (default: `CHART`,
    a placeholder to replace). Targets applied as YAML (plain manifests, kustomize) get a
    note in their own words (`applied_note`): there is no release.
    """
    h = "#" * heading_level
    sub = "#" * min(heading_level + 1, 6)
    portable = portable and release not in change.target_name and change.target_name not in release
    if not change.released:
        return applied_note(change, namespace, heading_level=heading_level, title=title)
    version = version or default_version(change)
    target = version or change.target_version
    steps = release_steps(change, namespace)
    ref = chart_ref or "CHART"
    upgrade = f"helm upgrade {release} {ref}" + (f" --version {version}" if version else "")
    upgrade += f" -n {namespace}  # plus your usual -f/--set values"
    if target == change.target_version:  # --bump none: both charts carry one version
        title = title or f"Upgrading to this change (chart version {target} unchanged)"
    out = [f"{h} {title or f'Upgrading to {target}'}", ""]
    out += _variables_first(change) if portable else _written_for(change, release, namespace)
    if manager is not None and manager.manager != "helm":
        first, upgrade = _managed_by(manager, upgrade)
        out += first
    rollback = _rollback(change, steps, release, namespace, sub, version)
    words = change.kind.words
    if manager is not None and manager.manager in GITOPS:
        tool = GITOPS[manager.manager]
        words = replace(words, deploy=f"the {tool} sync", step=f"Turn the {tool} sync on "
                        "again: it upgrades the release")
    out += _steps_text(change, steps, upgrade, namespace, sub, words, rollback)
    text = _without_placeholders("\n".join(out).rstrip("\n") + "\n", change)
    return _with_variables(text, release, namespace) if portable else text


def _variables_first(change: TargetChange) -> list[str]:
    """The top of a portable note: the two shell variables every line below uses, and what
    the names below assume."""
    lines = [
        "Set your release's name and namespace first (`helm list -A` shows them); every "
        "line below uses them:",
        "",
        "```sh",
        "RELEASE=my-release  # your release's name",
        "NAMESPACE=my-namespace  # the namespace it runs in",
        "```",
        "",
        "Object names below are those the chart's default values give release `$RELEASE`. "
        "With `nameOverride` or `fullnameOverride` set, or a release name that holds the "
        "chart's name, the chart names them otherwise: compare with "
        '`helm get manifest "$RELEASE" -n "$NAMESPACE"` before running a line, or generate '
        "the note for your release with `chartfix fix CHART --release NAME --namespace NS "
        "[-f VALUES] --pr-body FILE`.",
        "",
    ]
    others = other_scenarios(change)
    if others:
        lines += [
            "> **Note:** other values render other objects, which these steps do not cover: "
            + "; ".join(f"{ref} (with {_some(names)})" for ref, names in others.items()) + ".",
            "",
        ]
    return lines


_QUOTED = re.compile(r"'[^']*'")


def _with_variables(note: str, release: str, namespace: str) -> str:
    """`note` with the release and namespace it was rendered for as `$RELEASE` and
    `$NAMESPACE`: quoted for the shell in code blocks (a single-quoted selector is closed
    around the variable), as words in the text."""
    name = re.compile(rf"(?<![A-Za-z0-9]){re.escape(release)}(?![A-Za-z0-9])")
    ns = re.compile(rf"-n {re.escape(namespace)}(?![A-Za-z0-9-])")
    out, inside = [], False
    for line in note.split("\n"):
        if line.startswith("```"):
            inside = not inside
        elif inside and not line.startswith(("RELEASE=", "NAMESPACE=")):
            line = ns.sub('-n "$NAMESPACE"', line)
            pieces, last = [], 0
            for quoted in _QUOTED.finditer(line):
                pieces.append(name.sub('"$RELEASE"', line[last:quoted.start()]))
                pieces.append(name.sub("'\"$RELEASE\"'", quoted.group()))
                last = quoted.end()
            line = "".join(pieces) + name.sub('"$RELEASE"', line[last:])
        else:
            line = name.sub("$RELEASE", ns.sub('-n "$NAMESPACE"', line))
        out.append(line)
    return "\n".join(out)


def _without_placeholders(note: str, change: TargetChange) -> str:
    """`note` with each value chartfix synthesized shown as a word to replace, named after
    the value it stands for (`release-name-ROLE`, not `release-name-placeholder-1`; as
    `CHART` in `helm upgrade`), and a line saying so: a made-up name in a kubectl line
    would be a wrong one."""
    made_up: dict[str, str] = {}
    for rendering in change.before:
        made_up.update(placeholders(rendering))
    used = [p for p in sorted(made_up, key=len, reverse=True) if p in note]
    if not used:
        return note
    words = {p: re.sub(r"[^A-Za-z0-9]+", "_", made_up[p]).strip("_").upper() for p in used}
    for value in used:
        note = note.replace(value, words[value])
    named = ", ".join(f"{words[v]} (`{made_up[v]}`)" for v in sorted(used))
    return note + (
        f"\n{named}: the value your release gives; chartfix rendered without it. Put it "
        "in the names above before running these lines.\n"
    )


def _steps_text(
    change: TargetChange, steps: MigrationSteps, deploy_line: str, namespace: str, sub: str,
    words: Words, back: list[str],
) -> list[str]:
    """The steps of a note, in `words`: before, deploy (`deploy_line`), after, the simple
    variant, going back (`back`: the section for a breaking change) and what changes safely."""
    out = _opening(steps, words)
    for warning in steps.warnings + _ksm_notes(change, steps):
        out += [f"> **Warning:** {warning}", ""]
    if steps.before or steps.keep:
        out += _phases(steps, deploy_line, namespace, sub, words)
    if steps.before:
        out += _simple_variant(steps, deploy_line, namespace, sub, not change.released)
        out += back
    elif steps.keep:
        out += [f"{sub} Rolling back", "", _back_after_keep(steps, words), ""]
    if steps.safe:
        out += [f"{sub} Changed in place by {words.the} (safe)", ""]
        out += [f"- {line}" for line in steps.safe] + [""]
    return out


def _opening(steps: MigrationSteps, words: Words) -> list[str]:
    """What the deploy meets: immutable fields, pods a selector leaves out, or nothing."""
    deploy = words.deploy
    if steps.before:
        return [
            f"{words.this} changes fields Kubernetes does not let {deploy} change: until "
            f"the steps below are done {words.the} fails with `field is immutable`. Run them "
            "in this order.",
            "",
        ]
    if steps.keep:
        return [
            f"{words.this} changes no field Kubernetes keeps immutable, and {deploy} "
            "alone succeeds; but without the step below, running pods drop out of a Service "
            "(or another selector) until the rolling update replaces them. Run it first.",
            "",
        ]
    return [f"No manual step is needed: {deploy} applies every change in place.", ""]


def _phases(
    steps: MigrationSteps, deploy_line: str, namespace: str, sub: str, words: Words
) -> list[str]:
    """1. before the deploy, object by object; 2. the deploy; 3. after: restart, wait,
    check the endpoints, clean up."""
    out = [f"{sub} 1. Before {words.deploy}", ""]
    for step in steps.before + steps.keep:
        out += [f"{step.heading}: " + " ".join(step.explain), "",
                "```sh", *step.commands, "```", ""]
    out += [f"{sub} 2. {words.step}", "", "```sh", deploy_line, "```", ""]
    out += [f"{sub} 3. {words.after}", ""]
    if steps.after:
        out += ["Restart the StatefulSets, so that every pod runs the new template:", "",
                "```sh", *steps.after, "```", ""]
    if steps.checks:
        out += ["Wait until the new pods are ready:", "", "```sh", *steps.checks, "```", ""]
    if steps.kept:
        out += ["Check, while the pods roll and after, that each Service still has every "
                "pod as an endpoint (PODS lists them by name):", "",
                "```sh", *steps.kept, "```", ""]
    if steps.cleanup:
        out += [_cleanup_text(steps, namespace), "", "```sh", *steps.cleanup, "```", ""]
    return out


def _back_after_keep(steps: MigrationSteps, words: Words) -> str:
    """Going back over a change that needed a step first (no immutable field)."""
    if not steps.unkept_back:
        return (f"{words.back} needs no step: the old selectors ask for no label that the pods "
                "the new version started lack.")
    return (
        f"{words.back} changes the selector of {', '.join(steps.unkept_back)} back at "
        "once as well, and the pods the new version started lack a label the old selector "
        "asks for until each is replaced: give them that label first, as above."
    )


def releases_note(
    changes: Sequence[tuple[Release, TargetChange]],
    *,
    version: str | None = None,
    heading_level: int = 2,
    title: str | None = None,
) -> str:
    """The note for a chart run as several releases (or one a GitOps controller deploys):
    one block of steps per release, each from the change rendered for that release."""
    (first, change), *_ = changes
    if len(changes) == 1 and first.manager == "helm":
        return migration_note(change, first.name, first.namespace, version=version,
                              heading_level=heading_level, title=title)
    h = "#" * heading_level
    target = version or default_version(change) or change.target_version
    out = [f"{h} {title or f'Upgrading to {target}'}", "",
           f"This chart runs as {len(changes)} release{'s' if len(changes) != 1 else ''}: "
           "one block of steps for each, with the names that release renders (the change to "
           "the chart is the same for all).", ""]
    for release, own in changes:
        out.append(migration_note(own, release.name, release.namespace, version=version,
                                  heading_level=min(heading_level + 1, 6),
                                  title=release.describe(), manager=release))
    return "\n".join(out).rstrip("\n") + "\n"


def _written_for(change: TargetChange, release: str, namespace: str) -> list[str]:
    first = change.before[0] if change.before else None
    values = (
        "the chart's default values (values.yaml)" if first is None or first.scenario == "default"
        else f"the values `{' '.join(first.values)}`" if first.values
        else f"the values of `{first.scenario}`"
    )
    lines = [
        f"Written for release `{release}` in namespace `{namespace}`, installed with {values}: "
        "the steps name the objects those values render. For another release, regenerate "
        "it with `chartfix fix CHART --release NAME --namespace NS [-f VALUES] --pr-body "
        "FILE` or replace the names below.",
        "",
    ]
    others = other_scenarios(change)
    if others:
        lines += [
            "> **Note:** other values render other objects, which these steps do not cover: "
            + "; ".join(f"{ref} (with {_some(names)})" for ref, names in others.items())
            + ". For a release installed with such values, regenerate the note with them "
            "(`-f VALUES`).",
            "",
        ]
    rendered = {r.release for r in change.before}
    if rendered and rendered != {release}:
        lines += [
            f"> **Warning:** object names below were rendered for release "
            f"`{', '.join(sorted(rendered))}`, not `{release}`: check them before running.",
            "",
        ]
    return lines


def _some(names: Sequence[str], shown: int = 3) -> str:
    listed = ", ".join(f"`{name}`" for name in names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _ksm_notes(change: TargetChange, steps: MigrationSteps) -> list[str]:
    """kube-state-metrics warnings the fix pipeline raised and this note did not repeat."""
    said = " ".join(steps.warnings)
    return [
        note for note in change.notes
        if "kube-state-metrics" in note and not _same_object(note, said)
    ]


def _same_object(note: str, said: str) -> bool:
    names = re.findall(r"statefulset/([\w.-]+)", note)
    return bool(names) and all(f"statefulset/{name}" in said for name in names)


def _cleanup_text(steps: MigrationSteps, namespace: str) -> str:
    """What the cleanup listings show and how to delete what is left, in the namespace the
    listings name (the objects', which a kustomize overlay sets), else NS."""
    said, deletes = [], []
    listed = {m.group(1) for line in steps.cleanup if (m := re.match(r"kubectl -n (\S+) ", line))}
    ns = listed.pop() if len(listed) == 1 else "NS" if listed else namespace
    if any(" get rs " in line for line in steps.cleanup):
        said.append(_replicasets_said(steps))
        deletes.append(f"`kubectl -n {ns} delete rs NAME`")
    if any(" get controllerrevisions " in line for line in steps.cleanup):
        said.append(
            "The old StatefulSets' and DaemonSets' ControllerRevisions (their rollout history) "
            "stay without OWNER."
        )
        deletes.append(f"`kubectl -n {ns} delete controllerrevision NAME`")
    return " ".join(said) + (
        f" Once the new pods are ready, delete what is left without OWNER ({', '.join(deletes)}):"
    )


def _replicasets_said(steps: MigrationSteps) -> str:
    """What became of the old ReplicaSets: adopted, and scaled down by the rollout the new
    pod template starts; or, where the template is unchanged, kept in use (no rollout)."""
    rolled = "Old ReplicaSets were adopted (OWNER set) and are scaled down by the rollout."
    if not steps.unrolled:
        return rolled
    kept = (
        f"The pod template of {_listed([f'`{name}`' for name in steps.unrolled])} is "
        "unchanged: its new Deployment adopts the old ReplicaSet (OWNER set) as its current "
        "one, and no rollout happens."
    )
    if not steps.rolled:
        return kept
    return kept + " The other old ReplicaSets were adopted and are scaled down by the rollout."


def _simple_variant(
    steps: MigrationSteps, upgrade: str, namespace: str, sub: str, applied: bool = False
) -> list[str]:
    """Delete, then upgrade: the pods stop until the new ones are ready.

    Helm's own force does not replace this step: Helm 3's `--force` and Helm 4's
    `--force-replace` (its new name; `--force` stays as a deprecated alias) update each
    object by replacement, an HTTP PUT (`replaceResource` in helm/helm pkg/kube/client.go),
    which the API refuses for an immutable field just as it refuses a patch (helm/helm#7173).
    """
    by_namespace: dict[str, list[str]] = {}
    for name in steps.recreate:
        by_namespace.setdefault(steps.namespaces.get(name, namespace), []).append(name)
    deletes = [f"kubectl -n {ns} delete {' '.join(names)}" for ns, names in by_namespace.items()]
    if applied:
        said = (
            "Delete the objects with their pods, then apply; nothing serves until the new pods "
            "are ready (with Argo CD or Flux: delete, then sync)."
        )
    else:
        said = (
            "Delete the objects with their pods, then upgrade; nothing serves until the new "
            "pods are ready. `helm upgrade --force` (Helm 3) or `--force-replace` (Helm 4) "
            "does not do this: it replaces each object in place, which the API refuses for "
            "immutable fields."
        )
    return [
        f"{sub} Simple variant, with downtime", "", said, "", "```sh", *deletes, upgrade,
        "```", "",
    ]


def _rollback(
    change: TargetChange, steps: MigrationSteps, release: str, namespace: str, sub: str,
    version: str | None,
) -> list[str]:
    """Back to the old chart: `helm rollback` meets the same immutable fields, in reverse."""
    old = f"{change.target_name}-{change.target_version}"
    heading, last = f"Rolling back to {change.target_version}", f"the last one of chart {old}"
    if (version or default_version(change) or change.target_version) == change.target_version:
        heading = "Rolling back to the chart before this change"
        last = (f"the last one before this change (both are chart {old}: tell them apart by "
                "their date)")
    return [
        f"{sub} {heading}", "",
        "`helm rollback` to the old chart changes the same immutable fields back and fails "
        "the same way. " + _rollback_way(steps),
        "", "```sh", *steps.rollback,
        f"helm history {release} -n {namespace}",
        f"helm rollback {release} REVISION -n {namespace}  # REVISION: {last}",
        *steps.after, *steps.checks, "```", "",
    ]


def _rollback_way(steps: MigrationSteps) -> str:
    """How going back deletes the new objects: without their pods, which the old objects
    adopt, except those an old object would adopt from another (`back_with_pods`)."""
    kept = [name for name in steps.recreate if _heading(name) not in steps.back_with_pods]
    mirror = (
        "give the running pods the labels the old selectors need (when the fix removed or "
        "changed one), delete the new objects but not their pods, then roll back; the old "
        "objects adopt the pods (and replace them where the old pod template differs)."
    )
    if not steps.back_with_pods:
        return "The steps mirror the upgrade: " + mirror
    overlap = (
        f"The old selectors of {_listed(steps.back_with_pods)} overlap (the bug this change "
        "fixes): `helm rollback` creates every old object at once, and the first to see a "
        "ReplicaSet (or pod) left without owner that its selector matches adopts it, and "
        "scales to 0 (or deletes) another's. So delete "
        + ("these" if kept else "them") + " with their pods: they serve nothing until the "
        "pods the rollback starts are ready."
    )
    if not kept:
        return overlap
    return f"For the other objects the steps mirror the upgrade: {mirror} {overlap}"


def _heading(name: str) -> str:
    """`deployment/web` as a step names it: Deployment `web`."""
    kind, _, rest = name.partition("/")
    kinds = {"deployment": "Deployment", "statefulset": "StatefulSet",
             "daemonset": "DaemonSet", "job": "Job"}
    return f"{kinds.get(kind, kind)} `{rest}`"


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


GITOPS = {"argocd": "Argo CD", "flux": "Flux"}


ARGO_SUSPEND = '{"spec":{"syncPolicy":{"automated":null}}}'


ARGO_RESUME = '{"spec":{"syncPolicy":{"automated":{}}}}'


FLUX_SUSPEND = '{"spec":{"suspend":true}}'


FLUX_RESUME = '{"spec":{"suspend":false}}'


def _managed_by(release: Release, upgrade: str) -> tuple[list[str], str]:
    """(what to do first, the line that deploys the new chart) for a release Argo CD, Flux or
    helmfile deploys. A GitOps controller would apply the merged change before the steps
    below: its sync is suspended first (`kubectl patch`, as their CLIs do), and resuming it
    is the upgrade."""
    if release.manager == "helmfile":
        return [
            "helmfile deploys this release: run the steps below, with `helmfile apply "
            f"--selector name={release.name}` where the note says `helm upgrade` (helmfile "
            "runs that upgrade with your helmfile's values).", "",
        ], upgrade
    if release.manager == "argocd":
        patch = _patch(release, "application")
        return [
            f"The Argo CD Application `{release.owner}` deploys this release: before this "
            "change is merged, stop its automated sync, or Argo CD applies the new chart "
            "before the steps below (and fails on the immutable fields):", "",
            "```sh", f"{patch} '{ARGO_SUSPEND}'", "```", "",
            "Then merge, and run the steps; turning the automated sync on again is the "
            "upgrade (put back `prune`/`selfHeal` if the Application had them).", "",
        ], f"{patch} '{ARGO_RESUME}'"
    patch = _patch(release, "helmrelease")
    return [
        f"The Flux HelmRelease `{release.owner}` deploys this release: before this change "
        "is merged, suspend it, or Flux upgrades the release before the steps below:", "",
        "```sh", f"{patch} '{FLUX_SUSPEND}'", "```", "",
        "Then merge, and run the steps; resuming the HelmRelease is the upgrade.", "",
    ], f"{patch} '{FLUX_RESUME}'"


def _patch(release: Release, kind: str) -> str:
    return f"kubectl -n {release.owner_namespace} patch {kind} {release.owner} --type merge -p"


_APPLY = "\0apply\0"
"""Where a section's apply line goes, before sections of alike overlays are merged."""


def applied_note(
    change: TargetChange, namespace: str, *, heading_level: int = 2, title: str | None = None
) -> str:
    """The note for a target whose YAML is applied (`kubectl apply -f DIR`, `kubectl apply
    -k OVERLAY`, or an Argo CD / Flux sync of it): no release, no values. Each scenario (a
    kustomize overlay) builds its own objects in its own namespace, so each gets its steps;
    overlays whose steps read alike share one section. An object that names no namespace
    lands in `namespace` (what `kubectl -n NAMESPACE apply` does)."""
    h = "#" * heading_level
    sections, unnamed = _overlay_sections(change, namespace, heading_level)
    out = [f"{h} {title or 'Applying this change'}", "", _how_applied(change, namespace, unnamed)]
    out += [
        "",
        "With Argo CD or Flux, suspend automated sync first (Argo CD: turn off auto-sync and "
        "self-heal; Flux: `flux suspend kustomization NAME`): a sync would put back an object "
        "a step deletes from the YAML still in git. At the apply step, merge this change and "
        "sync (or resume), instead of running `kubectl apply`.",
        "",
    ]
    for text, (scenarios, lines) in sections.items():
        if len(change.before) > 1:
            names = ", ".join(f"`{name}`" for name in scenarios)
            out += [f"{h}# {'Overlays' if len(scenarios) > 1 else 'Overlay'} {names}", ""]
        out += text.replace(_APPLY, "\n".join(lines)).split("\n")
    if not sections:
        out += ["No manual step is needed: `kubectl apply` applies every change in place.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _overlay_sections(
    change: TargetChange, namespace: str, heading_level: int
) -> tuple[dict[str, tuple[list[str], list[str]]], bool]:
    """({steps text: (the scenarios it is for, their apply lines)}, whether an object names
    no namespace): scenarios whose steps read alike share one text."""
    sections: dict[str, tuple[list[str], list[str]]] = {}
    unnamed = False
    for old, new in zip(change.before, change.after, strict=True):
        changes = scenario_changes(old.objects, new.objects)
        if not changes:
            continue
        unnamed |= any(not c.before.namespace for c in changes)
        steps = migration_steps(changes, namespace, old.objects, new.objects, change.kind.words)
        sub = "#" * min(heading_level + (2 if len(change.before) > 1 else 1), 6)
        body = _steps_text(
            change, steps, _APPLY, namespace, sub, change.kind.words, _revert(steps, _APPLY, sub)
        )
        scenarios, lines = sections.setdefault("\n".join(body), ([], []))
        scenarios.append(old.scenario)
        lines.append(_apply_line(change, old.objects, old.scenario, namespace))
    return sections, unnamed


def _how_applied(change: TargetChange, namespace: str, unnamed: bool) -> str:
    """How the target is applied, in its kind's words, and where paths start."""
    root = change.target_root.name
    top = _from_top(change.target_root)
    output = f"{top}/{change.kind.output}" if change.kind.output else top
    text = change.kind.applied_as.format(root=root, path=output)
    text += (
        " Paths are from the top of the repository." if top != "."
        else f" Paths are from `{root}` itself."
    )
    if unnamed:
        text += (
            f" Objects that name no namespace are taken to land in `{namespace}` (regenerate "
            "with `--namespace NS` for another)."
        )
    return text


def _apply_line(
    change: TargetChange, objects: Sequence[K8sObject], scenario: str, namespace: str
) -> str:
    """How one scenario is applied, in the kind's words (`KindFacts.apply`: `kubectl apply -k`
    of a kustomize overlay, `kubectl apply -f` of the folder of plain manifests or of a cdk8s
    app's output); `-n` only when some object names no namespace (an object naming another
    one than `-n` is refused by kubectl)."""
    kind = change.kind
    path = _from_top(change.target_root)
    if kind.output:
        path = posixpath.normpath(f"{path}/{kind.output}")
    if kind.overlays and scenario != "default":
        path = posixpath.normpath(f"{path}/{scenario}")
    ns = f"-n {namespace} " if any(not o.namespace for o in objects) else ""
    return kind.apply.format(ns=ns, path=quote(path))


def _from_top(root: Path) -> str:
    """The target's folder as a path from the top of its git repository (where a note's
    reader runs commands from), or `.` outside a repository (from the target itself)."""
    top = repository_root(root)
    return Path(root).resolve().relative_to(top).as_posix() or "."


def _revert(steps: MigrationSteps, apply: str, sub: str) -> list[str]:
    """Back to the YAML before this change: applying it meets the same immutable fields."""
    return [
        f"{sub} Going back to the YAML before this change", "",
        "Applying the old YAML changes the same immutable fields back and fails the same "
        "way. The steps mirror the apply: give the running pods the labels the old selectors "
        "need, delete the new objects but not their pods, then revert this commit and apply.",
        "", "```sh", *steps.rollback, "git revert --no-edit COMMIT  # COMMIT: this change",
        apply, *steps.after, *steps.checks, "```", "",
    ]
