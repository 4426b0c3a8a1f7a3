"""Feeds: the site's RSS, Atom or JSON Feed as the desk's queue (fetching, parsing, the
item keys that make "the same item" a database decision, the checker, the cards)."""
