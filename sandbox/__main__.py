"""``python -m sandbox``: run the Bot API emulator standalone."""

from __future__ import annotations

import sys

from sandbox.server import main

sys.exit(main())
