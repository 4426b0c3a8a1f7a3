"""Redis: what several bot instances must share besides the database.

* ``limits`` — Telegram's limits as GCRA buckets decided by one Lua script, so all
  instances together stay under them (the shared rate limiter's buckets);
* ``gates`` — at most one live-count edit per poll per interval, whoever sends it;
* ``ledger`` — ids of handled webhook updates, so a redelivered update is acknowledged
  without being handled twice;
* ``locks`` — one edit of a channel post at a time across instances, so a slow edit never
  lands after a newer one;
* ``leases`` — the scripts that let only a key's holder renew or free it;
* ``connection`` — the client and its health check.

Every key starts with the prefix given (``REDIS_PREFIX``), so several bots, or tests, can
share one server.  Times are the Redis server's (``TIME``), so instances with different
clocks agree.
"""
