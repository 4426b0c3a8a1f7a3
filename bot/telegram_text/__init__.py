"""Text as Telegram counts and shows it: cleaning input, HTML-escaped plain messages, and
splitting formatted text into parts within Telegram's limits (UTF-16 units)."""
