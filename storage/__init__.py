"""Storage: implementations of the protocols in bot/repositories.py (SQLite in sqlite/),
their numbered migrations, and nothing else: all SQL of the project lives here."""
