"""Source kinds: where objects come from (Helm charts, cdk8s apps) and how their files are edited.

Each kind is a package (`helm`, `cdk8s`); `targets` finds them on disk.
"""
