"""Test-wide settings."""

from hypothesis import HealthCheck, settings

# Property tests check correctness, not speed: no per-example deadline, so a loaded CI
# machine cannot turn a slow example into a failure.
settings.register_profile("newsroom", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("newsroom")
