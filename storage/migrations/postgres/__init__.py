"""PostgreSQL schema scripts, numbered like the SQLite ones (storage/postgres/db.py runs them)."""
