"""``python -m headcast`` runs the command line (the same as the ``headcast`` console script)."""

import sys

from headcast.cli.main import main

sys.exit(main())
