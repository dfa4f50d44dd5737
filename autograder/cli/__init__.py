"""The ``cnnkit`` command line (:mod:`autograder.cli.main`; the service's commands in
:mod:`autograder.cli.serve`, the student kit's in :mod:`autograder.cli.kit`).

A thin layer over keyword-only functions of the other packages: it may import any of them;
nothing of the kit imports it.
"""
