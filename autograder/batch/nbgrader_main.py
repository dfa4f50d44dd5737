"""``python -m autograder.batch.nbgrader_main ARGS``: nbgrader's command line, as each grading job
starts it, without an import that costs seconds and checks nothing a notebook has.

jsonschema, which nbformat validates notebooks with, imports ``rfc3987_syntax`` when it is
installed (Jupyter's event schemas pull it in) to check the ``iri`` string formats; importing it
builds a grammar and takes about three seconds, paid by every ``nbgrader autograde`` process,
while the notebook format's schema uses no such format. Without it, jsonschema skips those two
formats and validates everything else as before.
"""

import sys

# An import of it now fails fast: see above. (None in sys.modules is Python's documented way to
# block an import, which the type of sys.modules does not allow for.)
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from nbgrader.apps.nbgraderapp import main  # noqa: E402  (after the line above, on purpose)

if __name__ == "__main__":
    sys.exit(main())
