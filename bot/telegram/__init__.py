"""The Telegram side: the channel adapter, request pacing within Telegram's limits, the
command menu, links and deep links, size limits, notices, and the dispatcher."""
