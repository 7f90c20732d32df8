"""Does a chart version satisfy a dependency's version constraint, as Helm judges it?

Helm reads `dependencies[].version` with Masterminds/semver: `||` joins alternatives, `,` or
spaces join conditions that must all hold; operators `=`, `!=`, `>`, `<`, `>=`, `<=`/`=<`,
`~` (patch range; `~1` a major), `^` (up to the next major; below 1.0 the next minor),
x-ranges (`1.2.x`, `1.*`, `*`) and hyphen ranges (`1.2 - 1.4.5`). A prerelease version
satisfies only a constraint that itself names a prerelease, as in Masterminds.

The constraint language is read here because no Python library reads Masterminds' own:
`semver`'s `Version.match` takes one comparison (`>=1.2.3`), with none of `^`, `~`, x-ranges,
hyphen ranges, `,` or `||`; node-semver (npm's rules) joins conditions with spaces only, has
no `!=`, and lets a prerelease satisfy a range only beside a comparator of the same
major.minor.patch (Masterminds: any condition naming a prerelease); `packaging`'s specifiers
are PEP 440 (`~=`, no `^`, another prerelease syntax). The versions themselves are
`semver.Version`s read as Helm reads them (`chartfix.versions`) and ordered by `semver`'s
SemVer 2 precedence, as Masterminds orders them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chartfix.versions import helm_version

if TYPE_CHECKING:
    from semver import Version

_PART = r"(\d+|[xX*])"
_TERM = re.compile(
    rf"(\^|~>?|!=|>=|=>|<=|=<|>|<|=)?\s*v?{_PART}(?:\.{_PART})?(?:\.{_PART})?"
    r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)
"""One condition: an operator and a version whose numbers may be wildcards (`1.2.x`)."""


class BadConstraint(ValueError):
    """A constraint Helm would not parse either."""


def satisfies(version: str, constraint: str) -> bool:
    """True when `version` meets `constraint`; BadConstraint when either cannot be read."""
    try:
        _, have = helm_version(version)
    except ValueError:
        raise BadConstraint(f"not a version: {version!r}") from None
    return any(_all_hold(have, alternative.strip()) for alternative in constraint.split("||"))


def _all_hold(have: Version, text: str) -> bool:
    text = re.sub(r"(\S+)\s+-\s+(\S+)", r">=\1,<=\2", text)  # hyphen range
    text = re.sub(r"(\^|~>?|!=|>=|=>|<=|=<|>|<|=)\s+", r"\1", text)
    terms = [t for t in re.split(r"[,\s]+", text) if t]
    if not terms:
        terms = ["*"]
    names_pre = any("-" in t for t in terms)
    if have.prerelease and not names_pre:
        return False
    return all(_holds(have, term) for term in terms)


def _holds(have: Version, term: str) -> bool:
    from semver import Version

    match = _TERM.fullmatch(term)
    if match is None:
        raise BadConstraint(f"not a constraint: {term!r}")
    op = match.group(1) or "="
    parts = [match.group(i) for i in (2, 3, 4)]
    wild = [p is None or p in "xX*" for p in parts]
    nums = [0 if w else int(p) for p, w in zip(parts, wild, strict=True)]
    low = Version(nums[0], nums[1], nums[2], prerelease=match.group(5))
    major_minor = (have.major, have.minor)
    if op in ("=", "!="):
        if wild[0]:
            inside = True
        elif wild[1]:
            inside = have.major == nums[0]
        elif wild[2]:
            inside = major_minor == tuple(nums[:2])
        else:
            inside = have.compare(low) == 0
        return inside if op == "=" else not inside
    if op in ("~", "~>"):
        high = Version(nums[0] + 1) if wild[1] else Version(nums[0], nums[1] + 1)
        return low <= have < high
    if op == "^":
        if nums[0] > 0 or wild[1]:
            high = Version(nums[0] + 1)
        elif nums[1] > 0 or wild[2]:
            high = Version(0, nums[1] + 1)
        else:
            high = Version(0, 0, nums[2] + 1)
        return low <= have < high
    if op in (">=", "=>"):
        return have >= low
    if op == ">":
        if wild[1]:
            return have.major > nums[0]
        if wild[2]:
            return major_minor > (nums[0], nums[1])
        return have > low
    if op == "<":
        return have < low
    # <= and =<: a wildcard part allows the whole range below the next step
    if wild[1]:
        return have.major <= nums[0]
    if wild[2]:
        return major_minor <= (nums[0], nums[1])
    return have <= low
