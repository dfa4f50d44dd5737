"""The trusted side of grading: it runs no student code.

It drives the student's kernel, asks it for observations, and decides each test's points from
them with the same check definitions students run at home; it measures trained models on labels
the kernel never holds, in reference architectures the student kit does not carry.
"""
