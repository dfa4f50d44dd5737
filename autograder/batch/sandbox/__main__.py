"""The sandboxed kernel's start command (see :mod:`autograder.batch.sandbox.launcher`)."""

import sys

from autograder.batch.sandbox.launcher import launch

launch(sys.argv[1], sys.argv[2])
