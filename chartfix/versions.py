"""A chart version as Helm reads it, parsed by the `semver` library.

Helm reads Chart.yaml's `version` and a dependency's constraint with Masterminds/semver
(`NewVersion`, which `helm lint` and `helm package` call): SemVer 2, plus what it coerces: a
leading `v`, a missing minor or patch (`1.2` is 1.2.0) and leading zeros in the three
numbers (`2024.01.5` is 2024.1.5). `semver` parses SemVer 2 and, with
`optional_minor_and_patch`, the short forms, and orders versions by SemVer 2's precedence
(as Masterminds does); the `v` and the leading zeros are taken off here first. A
prerelease's leading zeros (`1.2.3-01`) and empty identifiers stay refused, by both.

Not `packaging`: its versions are PEP 440's, which normalises `1.0.0-rc.1` to `1.0.0rc1`,
refuses `1.0.0-alpha.beta` and orders prereleases by its own rules, not SemVer's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import semver


def helm_version(text: str) -> tuple[str, semver.Version]:
    """(`"v"` or `""`, the version) of `text`; ValueError when Helm would refuse it too."""
    import semver  # 10 ms to import: `check` pays it only for a dependency's constraint

    text = text.strip()
    prefix = "v" if text.startswith("v") else ""
    rest = text[len(prefix):]
    cut = min((at for at in (rest.find("-"), rest.find("+")) if at >= 0), default=len(rest))
    numbers = rest[:cut].split(".")
    if all(number.isascii() and number.isdigit() for number in numbers):
        rest = ".".join(str(int(number)) for number in numbers) + rest[cut:]
    try:
        return prefix, semver.Version.parse(rest, optional_minor_and_patch=True)
    except ValueError:
        raise ValueError(f"{text!r} is not a SemVer version") from None
