"""Bulk reports after the run: merge the shards' JSON (`merge.py`), show it as a page (`html.py`).

The JSON is written by `chartfix bulk --report` (its shape: docs/output.md, "Bulk reports").
"""
