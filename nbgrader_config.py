"""nbgrader configuration of the CNN course module; run nbgrader from this folder.

Each setting below answers a way nbgrader 0.9.6 goes wrong with TensorFlow notebooks.
"""

import os
import sys
from pathlib import Path

from autograder import settings
from autograder.authoring.preprocessors import HideHiddenTests, StripSolutionMarkers
from autograder.judge.execute import JudgedExecute
from autograder.judge.gradebook_cells import SettleMetadata
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    IncludeHeaderFooter,
    LimitOutput,
    LockCells,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor

ROOT = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (nbgrader provides get_config)

# nbgrader runs `alembic` through PATH to create the gradebook; a virtual environment whose bin/
# is not on PATH leaves a half-made gradebook behind. Put this interpreter's bin/ first.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

# TensorFlow's C++ log lines go to stderr, which would score a test cell 0 (the kernel inherits
# this environment).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

c.CourseDirectory.course_id = "cnn-module"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.solution_directory = "solutions"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".DS_Store"]

# The kit's own settings: the assignments in the tutorial's order (any other folder of source/
# follows, alphabetically), and the module of the course's own checks (none in this course).
c.CNNKit.assignment_order = ["images", "convolution", "pooling", "mnist_cnn", "residual_unit", "resnet34"]
c.CNNKit.course_checks = ""

# The local exchange for release_assignment / fetch_assignment / submit / collect.
c.Exchange.root = settings.EXCHANGE.get() or str(ROOT / ".exchange")

# A test cell with any stderr output scores 0. Drop the noise that TensorFlow and Keras write there
# (Python warnings, TensorFlow's log lines); an exception still fails the test.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)(Warning:|WARNING|^[IWEF]\d{4} \d\d:\d\d)"

# A deleted test cell, or one whose metadata was stripped, is put back and run, not silently
# left for manual grading.
c.OverwriteCells.add_missing_cells = True

# Timeouts are per cell (nbgrader's default, 30 s, interrupts a training cell).
c.Execute.timeout = int(settings.CELL_TIMEOUT.get())

# A notebook's nbgrader metadata is the student's to edit, the gradebook's is not: first, the
# locked cells a student deleted or stripped of their metadata are put back, and every cell's
# metadata is set from the gradebook by grade id (an unknown id makes it the student's own cell).
c.Autograde.sanitize_preprocessors = [
    SettleMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

# The student's kernel runs the student's cells and the notebook's given code; every test cell
# is judged outside it, from observations, by the kit's judge (autograder/judge/execute.py).
# Run by hand, `nbgrader autograde` starts an ordinary kernel with the grader's rights: see the
# README for what that trusts; `cnnkit grade` shuts each kernel in a sandbox as well, and runs
# this same list: each worker all of it but the steps that write grades (SaveAutoGrades,
# AssignLatePenalties), which the coordinator runs when it records the executed notebook in the
# course's gradebook (autograder/batch/pipeline.py).
c.Autograde.autograde_preprocessors = [
    JudgedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# solutions/ holds clean reference notebooks: no solution markers, no hidden tests, no outputs,
# and generate_solution does not execute them.
c.GenerateSolution.preprocessors = [
    IncludeHeaderFooter,
    LockCells,
    ClearOutput,
    ClearMarkScheme,
    StripSolutionMarkers,
    ClearHiddenTests,
]

# Feedback keeps each failure's message but never shows hidden test code.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
