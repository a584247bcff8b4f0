"""``python -m headcast.cli`` runs the command line."""

import sys

from headcast.cli.main import main

sys.exit(main())
