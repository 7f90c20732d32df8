from chartfix.cli import program

raise SystemExit(program())
