"""``python -m autograder`` runs the ``cnnkit`` command line."""

import sys

from autograder.cli.main import main

sys.exit(main())
