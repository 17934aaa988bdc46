"""Store: the SQLite schema, migrations, reads and writes (sqlite-utils). No UI."""
