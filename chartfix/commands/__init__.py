"""chartfix's commands (check, fix, bulk, recipes): arguments in, output and exit codes out.

`chartfix.cli` parses the command line and calls them; they never import it back."""

from __future__ import annotations

import argparse

from chartfix.rules import RULES
from chartfix.rules.policy import Policy, command_line_policy
from chartfix.sources.base import DEFAULT_FEATURE_RENDERS


def policy_from(args: argparse.Namespace) -> Policy:
    """The command line's rule control (it wins over `.chartfix.yaml`)."""
    return command_line_policy(args.include, args.exclude, args.severity, list(RULES))


def features_from(args: argparse.Namespace) -> int:
    """Feature scenarios per chart the command line asks for (0: none)."""
    if args.no_features:
        return 0
    return int(args.feature_renders or DEFAULT_FEATURE_RENDERS)
