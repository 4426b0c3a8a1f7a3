"""PostgreSQL implementation of the stores in bot/repositories.py (asyncpg)."""
