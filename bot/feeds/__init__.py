"""The outlet's site as a source: its feeds, its article pages and its archive."""
