"""What an instructor uses to author the course: the assignments, building ``release/`` and
``solutions/`` with nbgrader, the kit's nbgrader preprocessors, the sample class, and the
student distribution."""
