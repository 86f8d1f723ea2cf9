"""``python -m positions``: the same CLI as the ``positions`` script."""

import sys

from positions.cli import main

sys.exit(main())
