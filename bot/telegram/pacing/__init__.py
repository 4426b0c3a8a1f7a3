"""The one place every outgoing request passes: pacing within Telegram's limits, retries.

aiogram has no rate limiter and no retry of its own, so one request middleware does both.
Its parts, one concern each:

* ``priorities`` — who goes first when a budget is short, chosen per task;
* ``budgets`` — one limit: a GCRA bucket and the line of requests waiting for it;
* ``limiter`` — the bot's budgets (the whole bot, each chat) and the wait for a slot;
* ``shared`` — the same budgets spent by several instances together;
* ``retries`` — which failed requests may be sent again;
* ``middleware`` — the request middleware: paces, retries and counts every request.
"""
