"""A dependency's version constraint judged as Helm judges it (Masterminds/semver's rules,
the examples of its README), on versions read by the `semver` library."""

from __future__ import annotations

import pytest

from chartfix.sources.helm.constraint import BadConstraint, satisfies


@pytest.mark.parametrize(
    ("constraint", "inside", "outside"),
    [
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.3.0", "1.2.2"]),
        ("~1", ["1.0.0", "1.9.9"], ["2.0.0"]),
        ("^1.2.3", ["1.2.3", "1.9.0"], ["2.0.0", "1.2.2"]),
        ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4", "0.1.0"]),
        ("^0", ["0.0.0", "0.9.9"], ["1.0.0"]),
        ("1.2.x", ["1.2.0", "1.2.9"], ["1.3.0"]),
        (">= 1.2, < 3.0.0 || >= 4.2.3", ["1.2.0", "2.9.9", "4.2.3"], ["3.0.0", "1.1.9"]),
        ("1.2 - 1.4.5", ["1.2.0", "1.4.5"], ["1.4.6"]),
        ("!=1.2.3", ["1.2.4"], ["1.2.3"]),
        ("*", ["0.0.1", "9.9.9"], ["1.0.0-rc.1"]),
        (">=1.2.3-rc.1", ["1.2.3-rc.2", "1.2.3", "2.0.0-alpha"], ["1.2.3-rc.0", "1.2.3-beta"]),
        ("<=1.2.x", ["1.2.9"], ["1.3.0"]),
    ],
)
def test_versions_inside_and_outside(
    constraint: str, inside: list[str], outside: list[str]
) -> None:
    assert [v for v in inside if not satisfies(v, constraint)] == []
    assert [v for v in outside if satisfies(v, constraint)] == []


def test_versions_as_helm_reads_them() -> None:
    """A leading `v`, a short form and leading zeros are versions to Helm."""
    assert satisfies("v1.2.3", "~1.2.0")
    assert satisfies("1.2", "=1.2.0")
    assert satisfies("2024.01.5", "^2024.1.0")
    assert not satisfies("1.2.3-rc.10", "<1.2.3-rc.9")  # numeric identifiers, as numbers


@pytest.mark.parametrize(("version", "constraint"), [("latest", "1.x"), ("1.2.3", ">>1"),
                                                     ("1.2.3-01", "*")])
def test_what_helm_cannot_read_is_refused(version: str, constraint: str) -> None:
    with pytest.raises(BadConstraint):
        satisfies(version, constraint)
