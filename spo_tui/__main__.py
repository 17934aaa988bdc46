"""``python -m spo_tui`` is the ``spo-tui`` command."""

import sys

from spo_tui.cli import main

sys.exit(main())
