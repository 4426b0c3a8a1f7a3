"""Numbered migration scripts, one folder per database engine."""
