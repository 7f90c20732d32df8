"""Migration notes: the exact commands that carry an existing release over a breaking fix.

- `steps`: what upgrading asks, per object, as data (`MigrationSteps`; `upgrade_kind`,
  `needs_note`), read from the renderings before and after the fix;
- `kubectl`: the kubectl lines that label running pods, one controller's only;
- `text`: the note in Markdown (`migration_note`, `releases_note`, `applied_note`);
- `placement`: which file the note goes to and where in it (`note_files`, `note_path`).

The commit message and summaries are `publish/messages.py`; the version a fix bumps to by
default is `publish/bump.py` (`default_level`, `default_version`). Nothing is imported here:
`bump` stands on `steps`, `text` on `bump`.
"""
