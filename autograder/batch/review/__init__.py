"""Reading a submission for a person: what its own code does that could change a grade but its
merit (:mod:`.scan`), what happened to the assignment's locked cells (:mod:`.locked`), and what
went wrong while it ran (:mod:`.problems`). Nothing here decides a grade: it flags and explains.
"""
