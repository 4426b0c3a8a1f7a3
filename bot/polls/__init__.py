"""Reader polls: the rules (what editors type, percentages, results), the buttons, the
coalesced live counts, and the use cases (post, attach, vote, close)."""
