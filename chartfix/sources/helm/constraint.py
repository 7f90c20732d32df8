"""Does a chart version satisfy a dependency's version constraint, as Helm judges it?

Helm reads `dependencies[].version` with Masterminds/semver: `||` joins alternatives, `,` or
spaces join conditions that must all hold; operators `=`, `!=`, `>`, `<`, `>=`, `<=`/`=<`,
`~` (patch range; `~1` a major), `^` (up to the next major; below 1.0 the next minor),
x-ranges (`1.2.x`, `1.*`, `*`) and hyphen ranges (`1.2 - 1.4.5`). A prerelease version
satisfies only a constraint that itself names a prerelease, as in Masterminds.
"""

from __future__ import annotations

import re

_VERSION = re.compile(
    r"v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)
_TERM = re.compile(r"(\^|~>?|!=|>=|=>|<=|=<|>|<|=)?\s*(" + _VERSION.pattern + r")")

Version = tuple[int, int, int, tuple[tuple[int, str], ...]]


class BadConstraint(ValueError):
    """A constraint Helm would not parse either."""


def satisfies(version: str, constraint: str) -> bool:
    """True when `version` meets `constraint`; BadConstraint when either cannot be read."""
    have = _parse(version.strip())
    if have is None:
        raise BadConstraint(f"not a version: {version!r}")
    return any(_all_hold(have, alternative.strip()) for alternative in constraint.split("||"))


def _all_hold(have: Version, text: str) -> bool:
    text = re.sub(r"(\S+)\s+-\s+(\S+)", r">=\1,<=\2", text)  # hyphen range
    text = re.sub(r"(\^|~>?|!=|>=|=>|<=|=<|>|<|=)\s+", r"\1", text)
    terms = [t for t in re.split(r"[,\s]+", text) if t]
    if not terms:
        terms = ["*"]
    names_pre = any("-" in t for t in terms)
    if have[3] and not names_pre:
        return False
    return all(_holds(have, term) for term in terms)


def _holds(have: Version, term: str) -> bool:
    match = _TERM.fullmatch(term)
    if match is None:
        raise BadConstraint(f"not a constraint: {term!r}")
    op = match.group(1) or "="
    parts = [match.group(i) for i in (3, 4, 5)]
    wild = [p is None or p in "xX*" for p in parts]
    nums = [0 if w else int(p) for p, w in zip(parts, wild, strict=True)]
    pre = _pre(match.group(6))
    low: Version = (nums[0], nums[1], nums[2], pre)
    if op in ("=", "!="):
        if wild[0]:
            inside = True
        elif wild[1]:
            inside = have[0] == nums[0]
        elif wild[2]:
            inside = have[:2] == tuple(nums[:2])
        else:
            inside = _cmp(have, low) == 0
        return inside if op == "=" else not inside
    if op in ("~", "~>"):
        high = (nums[0] + 1, 0, 0, ()) if wild[1] else (nums[0], nums[1] + 1, 0, ())
        return _cmp(have, low) >= 0 and _cmp(have, high) < 0
    if op == "^":
        if nums[0] > 0 or wild[1]:
            high = (nums[0] + 1, 0, 0, ())
        elif nums[1] > 0 or wild[2]:
            high = (0, nums[1] + 1, 0, ())
        else:
            high = (0, 0, nums[2] + 1, ())
        return _cmp(have, low) >= 0 and _cmp(have, high) < 0
    if op in (">=", "=>"):
        return _cmp(have, low) >= 0
    if op == ">":
        if wild[1]:
            return have[0] > nums[0]
        if wild[2]:
            return have[:2] > (nums[0], nums[1])
        return _cmp(have, low) > 0
    if op == "<":
        return _cmp(have, low) < 0
    # <= and =<: a wildcard part allows the whole range below the next step
    if wild[1]:
        return have[0] <= nums[0]
    if wild[2]:
        return have[:2] <= (nums[0], nums[1])
    return _cmp(have, low) <= 0


def _parse(text: str) -> Version | None:
    match = _VERSION.fullmatch(text)
    if match is None or any(p is not None and p in "xX*" for p in match.groups()[:3]):
        return None
    major, minor, patch = (int(p or 0) for p in match.groups()[:3])
    return (major, minor, patch, _pre(match.group(4)))


def _pre(text: str | None) -> tuple[tuple[int, str], ...]:
    if not text:
        return ()
    return tuple((0, f"{int(p):020d}") if p.isdigit() else (1, p) for p in text.split("."))


def _cmp(a: Version, b: Version) -> int:
    if a[:3] != b[:3]:
        return -1 if a[:3] < b[:3] else 1
    if a[3] == b[3]:
        return 0
    if not a[3]:
        return 1  # a release is above its prereleases
    if not b[3]:
        return -1
    return -1 if a[3] < b[3] else 1
