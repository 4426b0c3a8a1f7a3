"""Articles, from a pasted page to the reader: parsing and validating what editors send,
drafts and previews, the channel post and the full text, publishing, revisions, reading
and scheduling."""
