"""SQLite migrations: NNNN_name.sql, each one transaction ending in PRAGMA user_version."""
