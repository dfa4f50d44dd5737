"""The ``cnnkit`` command line (:mod:`autograder.cli.main`)."""
