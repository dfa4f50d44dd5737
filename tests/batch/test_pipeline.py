"""The autograde pipeline is the course's, declared once: a worker runs it less the steps that
write grades, the coordinator runs those when it records the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbgrader.preprocessors import AssignLatePenalties, Execute, SaveAutoGrades
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.batch import pipeline
from autograder.batch.jobs import Job
from autograder.batch.record import Recorder, course_config
from autograder.batch.runner import private_config


def test_the_worker_runs_the_course_pipeline_without_the_grade_writers(repo: Path) -> None:
    declared = list(course_config(repo).Autograde.autograde_preprocessors)
    assert pipeline.worker_steps(course_config(repo)) == [s for s in declared
                                                          if s not in (SaveAutoGrades, AssignLatePenalties)]
    assert pipeline.recorded_steps(course_config(repo)) == [SaveAutoGrades, AssignLatePenalties]
    assert Recorder(repo, "sqlite://").steps == [SaveAutoGrades, AssignLatePenalties]


def test_steps_may_be_named_and_default_to_nbgraders() -> None:
    named = Config({"Autograde": {"autograde_preprocessors": [
        "autograder.judge.execute.JudgedExecute", "nbgrader.preprocessors.SaveAutoGrades"]}})
    assert pipeline.worker_steps(named) == ["autograder.judge.execute.JudgedExecute"]
    assert pipeline.recorded_steps(named) == [SaveAutoGrades]
    assert pipeline.declared(Config())[0] is Execute


def test_a_pipeline_that_does_not_judge_stops_the_run() -> None:
    with pytest.raises(SystemExit, match=r"Autograde.autograde_preprocessors: expected JudgedExecute "
                                         r"among the course's steps, got \[Execute, IgnorePattern, "):
        pipeline.worker_steps(Config())


def test_the_private_configuration_is_the_courses_plus_the_jobs_settings(repo: Path, tmp_path: Path) -> None:
    course = (repo / "nbgrader_config.py").read_text(encoding="utf-8")
    job = Job("s", "images", {}, b"", course, budget="smoke")
    written = private_config(job, tmp_path, stats=tmp_path / "judge.json")
    assert written.startswith(course)
    (tmp_path / "nbgrader_config.py").write_text(written, encoding="utf-8")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.Autograde.autograde_preprocessors == pipeline.worker_steps(course_config(repo))
    assert config.Autograde.sanitize_preprocessors == course_config(repo).Autograde.sanitize_preprocessors
    assert config.JudgedExecute.budget == "smoke"
    assert config.JudgedExecute.stats_file == str(tmp_path / "judge.json")
    assert config.Execute.timeout == int(job.limits.cell_seconds)
    assert config.KernelManager.transport == "ipc"
