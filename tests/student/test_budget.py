"""Budgets are chosen by the grader's environment, never by the notebook."""

import pytest

from autograder import budget


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in (budget.BUDGET_ENV, "NBGRADER_EXECUTION", "NBGRADER_VALIDATING"):
        monkeypatch.delenv(name, raising=False)


def test_a_student_run_trains_as_the_tutorial():
    assert budget.current_name() == "tutorial"
    assert budget.training("mnist_cnn").epochs == 10
    assert budget.training("mnist_cnn").train_images == 55_000


@pytest.mark.parametrize("variable, value", [("NBGRADER_EXECUTION", "autograde"),
                                             ("NBGRADER_VALIDATING", "1")])
def test_nbgrader_runs_get_the_cpu_budget(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    assert budget.current().name == "cpu"


def test_the_grader_names_the_budget(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv(budget.BUDGET_ENV, "gpu")
    assert budget.current().name == "gpu"


def test_an_unknown_budget_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(budget.BUDGET_ENV, "fast")
    with pytest.raises(budget.BudgetError, match="CNNKIT_BUDGET: expected one of tutorial, gpu, cpu, "
                                                 "smoke, got 'fast'"):
        budget.current()


def test_an_unknown_model_is_refused():
    with pytest.raises(ValueError, match="model: expected one of mnist_cnn, resnet34, got 'vgg'"):
        budget.training("vgg")
