"""``python -m bot``: the command line."""

import sys

# Guarded: the processes that read an archive's pages import this module too (spawn),
# and need neither the command line nor what it imports (aiogram).
if __name__ == "__main__":
    from bot.cli import main

    sys.exit(main())
