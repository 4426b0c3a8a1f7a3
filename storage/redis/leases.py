"""Keys held under a lease by a token: only the holder may free or renew one, so an
instance whose lease ran out cannot free, or keep, a key that another has taken since."""

from __future__ import annotations

# How long what an instance holds (an update's claim, a dialog lock, a post's edit lock)
# outlives it if it dies: its holder renews it every third of this while it lives, so
# a slow send keeps it, and a dead instance's holds are free within these seconds.
LEASE_SECONDS = 4.0

# ARGV: the holder's token.  Deletes the key only if it is still the holder's.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# ARGV: the lease in ms, the holder's token.  Extends the key only if it is the holder's.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[2] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0
"""
