"""The SQLite backend: the database with its own threads, repositories, dialog storage."""
