"""The base kit works without its extras (``[serve]``, ``[dask]``, ``[postgres]``): it imports,
``cnnkit grade --help`` answers, and the parts that need an extra say which one to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from autograder.extras import EXTRAS, MissingExtra, database_driver, require

# Run in a fresh interpreter where the extras' modules cannot be imported, as in a kit installed
# with `pip install -e .` alone.
WITHOUT_EXTRAS = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = {blocked!r}
    class Blocked(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
    sys.meta_path.insert(0, Blocked())
""").format(blocked=sorted({m for modules in EXTRAS.values() for m in modules} | {"multipart"}))


def _without_extras(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_base_kit_imports_and_answers_grade_help_without_the_extras():
    ran = _without_extras("""
        import importlib, pkgutil
        import autograder
        from autograder.cli.main import main
        # Every module outside the service's web pages (which are the [serve] extra) imports.
        for found in pkgutil.walk_packages(autograder.__path__, "autograder."):
            if not found.name.startswith("autograder.serve.web") and not found.name.endswith("__main__"):
                importlib.import_module(found.name)
        try:
            sys.exit(main(["grade", "--help"]))
        except SystemExit as done:
            sys.exit(done.code)
    """)
    assert ran.returncode == 0, ran.stderr
    assert "usage: cnnkit grade" in ran.stdout


def test_the_web_service_without_its_extra_says_which_to_install():
    ran = _without_extras("""
        from autograder.extras import MissingExtra
        try:
            import autograder.serve.web
        except MissingExtra as error:
            print(error)
    """)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("cnnkit serve: expected the '")
    assert "Install the kit with `pip install -e '.[serve]'`." in ran.stdout


def test_cnnkit_serve_without_its_extra_says_which_to_install(repo):
    ran = _without_extras(f"""
        from autograder.cli.main import main
        sys.exit(main(["serve", "--course", {str(repo)!r}, "--port", "1"]))
    """)
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "cnnkit serve: expected the '" in ran.stdout + ran.stderr
    assert "Install the kit with `pip install -e '.[serve]'`." in ran.stdout + ran.stderr


def test_a_missing_module_names_its_extra():
    with pytest.raises(MissingExtra, match=r"^--scheduler: expected the 'no_such_module' package, "
                                           r"got an import error\. Install the kit with "
                                           r"`pip install -e '\.\[dask\]'`\.$"):
        require("no_such_module", what="--scheduler", extra="dask")


def test_a_missing_extra_is_input_the_user_fixes_and_an_import_error():
    from autograder.errors import BadInput

    assert issubclass(MissingExtra, BadInput) and issubclass(MissingExtra, ImportError)


def test_a_postgresql_url_asks_for_psycopg_and_sqlite_for_nothing(monkeypatch):
    database_driver("sqlite:///gradebook.db", what="--db-url")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(MissingExtra, match=r"\[postgres\]"):
        database_driver("postgresql+psycopg://grader@localhost/course", what="--db-url")
