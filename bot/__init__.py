"""The newsroom bot: domain services grouped by what they serve, the wiring (app.py),
the command line (cli.py), settings, plain data (models.py), the storage protocols the
services depend on (repositories.py) and every user-facing text (texts.py)."""
