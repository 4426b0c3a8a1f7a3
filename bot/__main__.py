"""``python -m bot``: the command line."""

import sys

from bot.cli import main

# Guarded: the processes that read an archive's pages import this module too (spawn).
if __name__ == "__main__":
    sys.exit(main())
