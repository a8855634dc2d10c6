"""``python -m bench.community``: the bench's command line (``bench.community.cli``)."""

from __future__ import annotations

import sys

from bench.community.cli import main

if __name__ == "__main__":
    sys.exit(main())
