"""The outlet's site as a source: its feeds (fetching, parsing, the item keys that make
"the same item" a database decision, the checker, the cards), its article pages and its
archive."""
