"""The command line is generated from the settings' declarations: each option's help, default and
variable come from its field; every command spells the course ``--course``; ``--version``."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

import autograder
from autograder import settings
from autograder.batch.limits import Limits
from autograder.batch.settings import Settings
from autograder.cli import main as cli
from autograder.serve.settings import ServeSettings
from autograder.settings import DECLARED, Variable, add_options, from_options, setting


@pytest.fixture(autouse=True)
def wide_help(monkeypatch):
    """Help on one long line, so that no option's text is wrapped at a hyphen."""
    monkeypatch.setenv("COLUMNS", "2000")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    top = cli.parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _help(command: str) -> str:
    """``cnnkit COMMAND --help`` with its lines joined, as one line of words."""
    return " ".join(_subcommands()[command].format_help().split())


def test_version_prints_the_distributions_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"cnnkit {metadata.version(cli.DISTRIBUTION)}\n"


def test_version_falls_back_to_the_packages_own(monkeypatch):
    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert cli.version() == autograder.__version__


@pytest.mark.parametrize("command, declared", [("grade", Settings), ("serve", ServeSettings)])
def test_each_settings_help_is_its_declarations(command, declared):
    text = _help(command)
    fields = [f for f in dataclasses.fields(declared) if DECLARED in f.metadata]
    assert len(fields) >= 8
    for found in fields:
        spec = found.metadata[DECLARED]
        flag = spec.option or "--" + found.name.replace("_", "-")
        assert f"{flag} " in text, flag
        assert " ".join(spec.help.split()) in text, found.name
        if found.default is not None and not isinstance(found.default, bool):
            assert f"(default: {spec.shown or found.default})" in text, found.name


@pytest.mark.parametrize("command, declared", [("grade", Settings), ("serve", ServeSettings)])
def test_options_not_given_take_the_declared_defaults(command, declared, monkeypatch):
    monkeypatch.delenv(settings.LIMITS.name, raising=False)
    args = _subcommands()[command].parse_args([])
    assert from_options(declared, args) == declared(limits=Limits())


def test_the_limits_variable_applies_before_the_options(monkeypatch):
    monkeypatch.setenv(settings.LIMITS.name, "memory=2G,cell=10")
    assert "(repeatable; applied after $CNNKIT_LIMITS)" in _help("grade")
    args = cli.parser().parse_args(["grade", "--limit", "cell=20", "--limit", "processes=64"])
    limits = from_options(Settings, args).limits
    assert (limits.memory, limits.cell_seconds, limits.processes) == (2 * 2**30, 20, 64)


def test_serve_options_land_in_its_settings(tmp_path: Path):
    args = cli.parser().parse_args(
        ["serve", "--no-exchange", "--max-upload", "512KiB", "--counts", "best", "--port", "9000",
         "--limit", "memory=1G", "--workers", "0"])
    made = from_options(ServeSettings, args, course=tmp_path)
    assert made == ServeSettings(course=tmp_path, exchange=False, max_upload=512 * 2**10,
                                 counts="best", port=9000, workers=0,
                                 limits=Limits(memory=2**30))


def test_every_command_that_acts_on_a_course_spells_it_course():
    without = {"sample-class", "data", "budgets", "settings"}
    for name, command in _subcommands().items():
        flags = {flag for action in command._actions for flag in action.option_strings}
        shown = [a for a in command._actions if a.help != argparse.SUPPRESS]
        assert ("--course" in flags) == (name not in without), name
        assert not any(a.dest == "course" and not a.option_strings for a in shown), name
    # The settings each command shares are spelled the same in each.
    assert "--db-url" in _help("grade") and "--db-url" in _help("tokens")
    assert "--public-url" in _help("serve") and "--public-url" in _help("tokens")


def test_older_spellings_still_work_unshown(tmp_path: Path):
    serve = cli.parser().parse_args(["serve", str(tmp_path)])
    assert serve.course_folder == tmp_path and serve.course is None
    tokens = cli.parser().parse_args(["tokens", "--url", "https://grading.example.org"])
    assert tokens.public_url == "https://grading.example.org"
    assert "--url" not in _help("tokens").replace("--public-url", "")


def test_a_scalar_setting_takes_its_variable_when_its_option_is_not_given(monkeypatch):
    variable = Variable("CNNKIT_TEST_THREADS", "", "Threads of a test.")

    @dataclass(frozen=True)
    class Example:
        threads: int = setting(2, "Threads to run.", env=variable)
        quiet: bool = setting(False, "Say less.")

    def parsed(*argv: str) -> Example:
        parser = argparse.ArgumentParser()
        add_options(parser, Example)
        return from_options(Example, parser.parse_args(argv))

    monkeypatch.delenv("CNNKIT_TEST_THREADS", raising=False)
    assert parsed() == Example(2, False)
    monkeypatch.setenv("CNNKIT_TEST_THREADS", "8")
    assert parsed() == Example(8, False)
    assert parsed("--threads", "3", "--quiet") == Example(3, True)
    parser = argparse.ArgumentParser()
    add_options(parser, Example)
    assert "Threads to run. (default: 2; $CNNKIT_TEST_THREADS when set)" in " ".join(
        parser.format_help().split())

