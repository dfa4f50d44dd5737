"""Sample submissions: realistic mistakes and correct answers written differently, made from the
reference solutions, and the sample class built from them."""
