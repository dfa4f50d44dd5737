"""Reading a submission for a person: what its own code does that could change a grade but its
merit (:mod:`.scan`), what happened to the assignment's locked cells (:mod:`.locked`), and what
went wrong while it ran (:mod:`.problems`). Nothing here decides a grade: it flags and explains.

:mod:`.cells` reads a notebook's cells as plain JSON data, which may be malformed; the judge and
the service read cells with it too. The package may import the error names the judge writes into
cells (:mod:`autograder.judge.guarded_execute`) and nbformat; never the rest of
:mod:`autograder.batch`, nor :mod:`autograder.serve`.
"""
