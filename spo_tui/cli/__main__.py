"""``python -m spo_tui.cli`` is the ``spo-tui`` command too (as ``python -m spo_tui`` is)."""

import sys

from spo_tui.cli import main

sys.exit(main())
