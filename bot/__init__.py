"""The newsroom bot: domain services grouped by what they serve, the composition root
that builds them (``app``) and runs them (``lifecycle``), the command line, settings,
plain data, the storage protocols the services depend on and every user-facing text."""
