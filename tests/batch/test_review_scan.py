"""The review scan of a submission's own code (``autograder.batch.review.scan``), without running
it: every route to the kit's kernel-side modules and every reflective facility is reported in
each of its spellings, with its wording; the notebook is read as nbgrader runs it (an older
format upgraded, the code magics and ``exec`` strings run, ``__future__`` features carried from
cell to cell, the assignment's own cells left out); data that could hold trained weights is
reported; and honest code, the reference solutions and the sample class are left alone."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
import pytest
from support.adversarial_corpus import ENTRIES, Context, Entry
from support.notebooks import notebook as _nb

from autograder.batch.review.scan import (
    CELL_DATA_LIMIT,
    CELL_NUMBERS_LIMIT,
    LITERAL_LIMIT,
    NOTEBOOK_LITERALS_LIMIT,
    NOTEBOOK_PAYLOAD_LIMIT,
    as_run,
    scan_cell,
    scan_submission,
    unreadable_cells_that_ran,
)

#: The locked cells' sources the cells below are read after.
LOCKED_SOURCES = ["from autograder import checks\nimport numpy as np"]

#: What the assignments' locked cells bind, for the ordinary code below.
COURSE = [("from autograder import budget, checks, data\nimport numpy as np\nimport pandas as pd\n"
          "import tensorflow as tf\nfrom tensorflow import keras\nimport matplotlib.pyplot as plt\n"
          "from sklearn.datasets import load_sample_image\nprint(float('inf'))")]


def _found(source: str, locked: list[str] = LOCKED_SOURCES) -> list[tuple[int, str]]:
    return scan_cell(source, locked)


def _reasons(source: str) -> str:
    return "\n".join(reason for _, reason in _found(source))


# ---- every facility, in several spellings: (piece of a reason, sources)

FACILITIES = {
    "kit import": ("imports from the kit's package (autograder", [
        "import autograder.kernel_answers", "from autograder import checks as c", "from autograder.checks import close",
        "import autograder.kernel_answers as o, os", "%time import autograder", "def f():\n    import autograder.judge"]),
    "kit named in a string": ("names the kit's package in a string", [
        "m = __import__('autograder.kernel_answers')", "import importlib\nimportlib.import_module('autograder.kernel_answers')",
        "import pkgutil\npkgutil.resolve_name('autograder.kernel_answers:REQUEST')", "x = b'AUTOGRADER'",
        "import pydoc\npydoc.locate('autograder.checks')", "keras.saving.deserialize_keras_object({'module': 'autograder'})"]),
    "kit module used": ("uses the kit's", [
        "k = checks", "print(checks.observe)", "checks._private()", "f(checks)", "[checks][0]",
        "def f(m=checks):\n    pass", "for m in [checks]:\n    pass", "with contextlib.nullcontext(checks) as m:\n    pass"]),
    "lookup by dotted name": ("finds a module or an object by its dotted name", [
        "import importlib as il\nil.import_module(name)", "from importlib import import_module\nimport_module(n)",
        "import pkgutil\npkgutil.resolve_name(n)", "from operator import attrgetter\nattrgetter(n)(o)",
        "import operator\nf = operator.attrgetter", "import pydoc\npydoc.locate(n)",
        "getattr(operator, 'methodcaller')(n)", "spec = importlib.util.find_spec(n)",
        "keras.saving.deserialize_keras_object(config)"]),
    "__import__": ("imports a module by name", [
        "m = __import__(name)", "load = __import__", "import builtins\nbuiltins.__import__(n)",
        "__builtins__.__import__(n)"]),
    "sys.modules": ("holds the modules the tests use", [
        "import sys\nsys.modules['numpy'] = None", "import sys as s\nm = s.modules", "from sys import modules",
        "import os\nos.sys.modules", "getattr(sys, 'modules')", "from sys import *\nmodules['x'] = 1"]),
    "gc": ("reaches other objects through the garbage collector", [
        "import gc", "import gc as g\ng.get_objects()", "from gc import get_referrers", "collector.get_referents(x)"]),
    "frames": ("reaches the frames of running code and their variables", [
        "import sys\nsys._getframe(1)", "import inspect\ninspect.currentframe()", "f = frame.f_back",
        "g = f.f_globals", "from inspect import stack\nstack()", "import inspect as i\ni.stack()",
        "try:\n    1 / 0\nexcept Exception as e:\n    e.__traceback__.tb_frame",
        "import traceback\ntraceback.walk_stack(None)", "import sys\nsys._current_frames()"]),
    "trace functions": ("sets a trace function", [
        "import sys\nsys.settrace(f)", "from sys import settrace as st\nst(f)", "import threading\nthreading.settrace(f)",
        "breakpoint()", "import pdb"]),
    "builtins": ("builtins", [
        "import builtins", "import builtins as b\nb.print = f", "__builtins__.print = None",
        "x = __builtins__['print']", "from builtins import *"]),
    "names the kernel looks up": ("a name the kernel's own code looks up", [
        "__builtins__ = {}", "__import__ = f", "def __import__(*a):\n    pass", "__name__ = 'x'",
        "from os import path as __loader__", "def f():\n    global __builtins__\n    __builtins__ = {}"]),
    "IPython's shell": ("IPython", [
        "ip = get_ipython()", "get_ipython().kernel.shell_handlers['x'] = f", "import IPython",
        "from IPython import get_ipython as g", "import ipykernel", "g = get_ipython",
        "import IPython\nIPython.get_ipython().kernel"]),
    "kernel's handlers": ("answers the IPython kernel's requests in the kit's place", [
        "get_ipython().kernel.shell_handlers['x'] = f", "k = ip.kernel\nk.shell_handlers.update(h)",
        "getattr(kernel, 'control_handlers')"]),
    "input transformers": ("changes how IPython reads every later cell", [
        "get_ipython().input_transformers_cleanup.append(f)", "ip.input_transformers_post.append(f)",
        "shell.ast_transformers.append(t)", "getattr(get_ipython(), 'input_transformers_cleanup')"]),
    "ctypes": ("loads C code into the kernel", [
        "import ctypes", "from ctypes import pythonapi", "import ctypes.util", "%%time\nimport ctypes"]),
    "code from strings": ("runs code built at run time", [
        "exec('x = 1')", "eval(s)", "run = exec", "get_ipython().run_cell('x = 1')", "import builtins\nbuiltins.exec(s)",
        "ip = get_ipython()\nip.run_cell(code)"]),
    "attribute by name": ("an attribute by", [
        "setattr(checks, 'close', f)", "f = getattr(np, 'te' + 'sting')", "delattr(m, 'x')",
        "import functools\nfunctools.partial(setattr, m, 'close')(f)", "list(map(delattr, [m], ['x']))"]),
    "facilities named in strings": ("in a string", [
        "import string\nstring.Formatter().get_field('0.__globals__', [f], {})", "attrgetter('f_back.f_globals')(x)",
        "x = 'input_transformers_cleanup'", "f'{checks}.__code__'", "name = 'Autograder'"]),
    "ctypes through another library": ("loads C code into the kernel", [
        "np.ctypeslib.ctypes", "lib = np.ctypeslib.load_library('x', '.')", "import ctypes as c\nc.pythonapi"]),
    "module of an object": ("finds the module an object comes from", [
        "import inspect\ninspect.getmodule(TRAINING)", "from inspect import getmodule"]),
    "namespaces": ("names", [
        "globals()['checks'] = None", "locals()['x'].y = 1", "vars(m)['x'] = 1", "g = globals", "x = m.__dict__",
        "f.__globals__['x'] = 1"]),
}


@pytest.mark.parametrize("piece, source", [
    pytest.param(piece, source, id=f"{name}-{number}")
    for name, (piece, sources) in FACILITIES.items() for number, source in enumerate(sources, 1)])
def test_each_facility_is_flagged_in_each_spelling(piece: str, source: str) -> None:
    assert piece in _reasons(source), _found(source)


def test_a_kit_function_called_as_the_tests_call_it_is_not_flagged() -> None:
    assert _found("checks.close('x', 1, 1)\ny = budget.training('mnist_cnn')\npath = data.mnist_dir()", COURSE) == []


def test_code_in_magics_and_strings_is_read_as_the_kernel_runs_it() -> None:
    for source in ["exec(\"import autograder.kernel_answers\")", "get_ipython().run_cell('import autograder')",
                   "%%capture out\nimport autograder.kernel_answers", "%timeit -n1 -r1 import autograder",
                   "%prun -s cumulative import autograder", "compile('import autograder', 'f', 'exec')",
                   "get_ipython().run_cell_magic('time', '', 'import autograder')"]:
        assert "imports from the kit's package (autograder" in _reasons(source), source


# ---- the wording of each reason: (source, line, the whole reason)

_LIBRARY = "part of a library the tests use"
_SHELL = "uses the IPython shell that runs the tests"
_EXEC = "calls exec(), which runs code built at run time"
_WEIGHTS = "trained weights could be hidden in it"
_BASE64 = base64.b64encode(bytes(range(256)) * 80).decode()

WORDING = [
    ("k = checks\nk.close = print", 1, "uses the kit's checks other than by calling its functions"),
    ("k = checks\nk.close = print", 2, f"replaces checks.close, {_LIBRARY} (written k.close)"),
    ("import numpy as npy\nnpy.testing.assert_allclose = print", 2,
     f"replaces np.testing.assert_allclose, {_LIBRARY} (written npy.testing.assert_allclose)"),
    ("import keras as K\nM = K.Model\nM.evaluate = None", 3, f"replaces keras.Model.evaluate, {_LIBRARY} (written M.evaluate)"),
    ("checks.shape = print", 1, f"replaces checks.shape, {_LIBRARY}"),
    ("del np.testing", 1, f"deletes np.testing, {_LIBRARY}"),
    ("__import__ = f", 1, "rebinds '__import__', a name the kernel's own code looks up"),
    ("import autograder.kernel_answers as o", 1, "imports from the kit's package (autograder.kernel_answers) in its own code"),
    ("m = __import__('autograder')", 1, "calls __import__(), which imports a module by name"),
    ("m = __import__('autograder')", 1, "names the kit's package in a string ('autograder')"),
    ("import importlib\nimportlib.import_module(n)", 1, "imports importlib, which imports modules by computed names"),
    ("import importlib\nimportlib.import_module(n)", 2,
     "calls importlib.import_module(), which finds a module or an object by its dotted name"),
    ("import sys\nm = sys.modules['numpy']", 2, "reaches sys.modules, which holds the modules the tests use"),
    ("from sys import modules", 1, "imports sys.modules, which holds the modules the tests use"),
    ("import inspect\ninspect.currentframe().f_back.f_globals", 2,
     "reaches inspect.currentframe().f_back.f_globals, which reaches the frames of running code and their variables"),
    ("import sys\nsys._getframe(1)", 2, "calls sys._getframe(), which reaches the frames of running code and their variables"),
    ("from sys import settrace as st\nst(print)", 2,
     "calls sys.settrace(), which sets a trace function, able to see and change every line the tests run"),
    ("import sys as s\ns.setprofile(print)", 2,
     "calls sys.setprofile(), which sets a profile function, able to see every call the tests make"),
    ("import os\nos._exit(1)", 2, "calls os._exit()"),
    ("import os\nos.fork()", 2, "calls os.fork()"),
    ("import os\nos.kill(1, 9)", 2, "calls os.kill()"),
    ("import sys\nsys.exit()", 2, "calls sys.exit(), which stops the kernel"),
    ("exec('1')", 1, _EXEC),
    ("run = exec", 1, "reaches exec, which runs code built at run time"),
    ("import functools\nfunctools.partial(setattr, m, 'x')(print)", 2, "reaches setattr, which replaces an attribute by name"),
    ("f = getattr(np, 'te' + 'sting')", 1, "reads an attribute by a computed name"),
    ("m = getattr(sys, 'modules', None)", 1, "reaches sys.modules, which holds the modules the tests use"),
    ("locals()['checks'].shape = print", 1, "calls locals(), which reaches the names of the running code"),
    ("x = m.__dict__", 1, "reaches m.__dict__, which leads to other code's objects and names"),
    ("__builtins__.print = None", 1, "reaches __builtins__, which holds the builtins every cell uses"),
    ("checks.close.__code__ = (lambda *a: None).__code__", 1, "replaces checks.close.__code__, the code a function runs"),
    ("f = checks.shape\nf.__code__ = g", 2, "replaces checks.shape.__code__, the code a function runs (written f.__code__)"),
    ("checks.__class__ = Fake", 1, "replaces checks.__class__, the class an object or a module belongs to"),
    ("anything.__dict__ = {}", 1, "replaces anything.__dict__, the namespace of an object"),
    ("f.__closure__[0].cell_contents = 1", 1, "replaces f.__closure__[].cell_contents, a variable a closure captured"),
    ("class A:\n    def __eq__(self, o):\n        return True", 2, "defines __eq__, which can make a comparison or a type check lie"),
    ("class A:\n    __eq__ = lambda s, o: True", 2, "defines __eq__, which can make a comparison or a type check lie"),
    ("Fake.__eq__ = lambda s, o: True", 1, "defines __eq__, which can make a comparison or a type check lie"),
    ("Fake = type('Fake', (), {'__eq__': f})", 1, "defines __eq__, which can make a comparison or a type check lie"),
    ("class E:\n    def __reduce__(self):\n        return (print, ())", 2, "defines __reduce__, which runs code when an object is unpickled"),
    ("get_ipython().input_transformers_cleanup.append(f)", 1,
     "reaches get_ipython().input_transformers_cleanup, which changes how IPython reads every later cell"),
    ("ip = get_ipython()", 1, f"calls get_ipython(), which {_SHELL}"),
    ("import IPython", 1, "imports IPython, which reaches the IPython shell that runs the tests"),
    ("!curl http://example.com", 1, f"{_SHELL}: a shell command (!)"),
    ("%load_ext autoreload", 1, f"{_SHELL}: %load_ext"),
    ("%%writefile helper.py\nimport os", 1, f"{_SHELL}: %%writefile"),
    ("get_ipython().run_line_magic('time', code)", 1, f"{_SHELL}: %time with arguments built at run time"),
    ("ip = get_ipython()\nip.run_line_magic('load_ext', 'x')", 2, f"{_SHELL}: %load_ext"),
    ("%%capture\nx = 1\n%%timeit -n 1 checks.close = 1", 3, f"{_SHELL}: %%timeit"),
    ("open('/etc/passwd').read()", 1, "opens a file outside its own folder"),
    ("open('../x').read()", 1, "opens a file outside its own folder"),
    ("import socket", 1, "imports socket, which opens network connections"),
    ("import pickle, base64", 1, "imports pickle, which can run code hidden in the data it loads"),
    ("w = np.load('w.npy', allow_pickle=True)", 1, "loads with allow_pickle, which can run code hidden in the data"),
    ("import pandas as pd\nw = pd.read_pickle('w.pkl')", 2, "calls pandas.read_pickle(), which can run code hidden in the data it loads"),
    ("m = keras.models.load_model('m.keras', safe_mode=False)", 1,
     "turns off Keras's safe_mode, which lets a saved model run its own code"),
    ("x = 1\n### BEGIN HIDDEN TESTS\nchecks.shape = print\n### END HIDDEN TESTS", 2,
     ("writes hidden-test markers in its own cell (nbgrader removes hidden tests only from the assignment's own "
     "cells, so this code runs)")),
    # Magics: the code they run, at its line of the cell.
    ("%%time\nchecks.shape = print", 2, f"replaces checks.shape, {_LIBRARY}"),
    ("\n\n%%time\nx = 1\nexec('y')", 5, _EXEC),
    ("%time checks.shape = print", 1, f"replaces checks.shape, {_LIBRARY}"),
    ("%%capture out\nexec('x')", 2, _EXEC),
    ("%%timeit -n 1 -r 1\nimport socket", 2, "imports socket, which opens network connections"),
    ("%timeit -n1 exec('x')", 1, _EXEC),
    ("%prun -s cumulative checks.shape = print", 1, f"replaces checks.shape, {_LIBRARY}"),
    ("%%time\n%%capture\n%time exec('x')", 3, _EXEC),
    ("get_ipython().run_cell_magic('time', '', \"exec('x')\")", 1, _EXEC),
    ("%matplotlib {exec('x')}", 1, f"{_SHELL}: %matplotlib"),  # IPython would expand {...}: not read
    ("%precision $x", 1, f"{_SHELL}: %precision"),
    ("%config InlineBackend.figure_format = exec('x')", 1, _EXEC),
    ("exec('x = 1\\nimport socket')", 1, "imports socket, which opens network connections"),
    # Data.
    (f"weights = '{_BASE64}'", 1, f"carries 27 KiB of data in this cell: a string literal of base64-like text on line 1; {_WEIGHTS}"),
    (f"w = bytes.fromhex('{'0a1b' * 5000}')", 1,
     f"carries 20 KiB of data in this cell: a string literal of hex digits on line 1; {_WEIGHTS}"),
    (f"w = 0x{'ab' * 9000}", 1, f"carries 18 KiB of data in this cell: a number literal on line 1; {_WEIGHTS}"),
    ("w = np.array([" + ", ".join(f"{i / 7:.4f}" for i in range(2400)) + "])", 1,
     f"carries 18 KiB of data in this cell: 2,400 numbers written as literals, from line 1; {_WEIGHTS}"),
    ("parts = [\n" + "".join(f"    '{_BASE64[:8000]}',\n" for _ in range(10)) + "]", 1,
     f"carries 78 KiB of data in this cell: its literals and comments; {_WEIGHTS}"),
    ("x = 1\n" + "".join(f"# {_BASE64[:1000]}\n" for _ in range(40)), 1,
     f"carries 39 KiB of data in this cell: its literals and comments; {_WEIGHTS}"),
    (f"%%time\nx = 1\nweights = '{_BASE64}'", 3,
     f"carries 27 KiB of data in this cell: a string literal of base64-like text on line 3; {_WEIGHTS}"),
]


@pytest.mark.parametrize("source, line, reason", [pytest.param(*case, id=f"wording-{n}") for n, case in enumerate(WORDING, 1)])
def test_each_reason_has_its_line_and_wording(source: str, line: int, reason: str) -> None:
    found = _found(source)
    assert (line, reason) in found, found


@pytest.mark.parametrize("source", [
    "import numpy as np\nchina = np.zeros((2, 2)) / 255",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.imshow([[1]])",
    "class ResidualUnit:\n    def __init__(self, filters):\n        self.filters = filters",
    "model.fit(X, y, epochs=1)\nopen('weights.txt', 'w').write('x')",
    "x = getattr(layer, 'filters')",
    "this is not python (",
    "china = load_sample_image('china.jpg') / 255\nflower = load_sample_image('flower.jpg') / 255",
    "fig = plt.figure(figsize=(12, 4))\nplt.subplot(1, 2, 1)\nplt.imshow(china)\nplt.show()",
    ("conv = keras.layers.Conv2D(filters=p, kernel_size=u, strides=s, padding='SAME',\n"
    "                           activation='relu', input_shape=images_shape)\nprint(conv.kernel.shape)"),
    ("%%time\nmodel.compile(loss='sparse_categorical_crossentropy', optimizer='nadam', metrics=['accuracy'])\n"
    "history = model.fit(X_train[:n], y_train[:n], epochs=TRAINING.epochs, verbose=2)"),
    "%time history = model.fit(X_train, y_train, epochs=1)",
    "%timeit np.zeros(10)",
    "%config InlineBackend.figure_format = 'retina'",
    "model.fit?",
    "print(f'test accuracy: {test_accuracy:.4f} after {len(history.epoch)} epochs')",
    'def residual_unit(x):\n    """' + "A residual unit, as in the book. " * 150 + '"""\n    return x',
    ("class ResidualUnit(keras.layers.Layer):\n"
    "    def __init__(self, filters, strides=1, activation='relu', **kwargs):\n"
    "        super().__init__(**kwargs)\n        self.activation = keras.activations.get(activation)\n"
    "    def call(self, inputs):\n        return self.activation(inputs)\n"
    "    def get_config(self):\n        return {**super().get_config(), 'filters': self.filters}"),
    ("from functools import partial\n"
    "DefaultConv2D = partial(keras.layers.Conv2D, kernel_size=3, activation='relu', padding='SAME')"),
    "def block(x, activation=keras.activations.relu):\n    return activation(x)\ny = block(X, activation=keras.activations.relu)",
    "for layer in model.layers:\n    layer.trainable = False",
    "pd.options.display.max_rows = 100\nplt.rcParams['figure.figsize'] = (8, 4)",
    "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\nnp.random.seed(42)\ntf.random.set_seed(42)",
    "with tf.GradientTape() as tape:\n    loss = model(X)\ngrads = tape.gradient(loss, model.trainable_variables)",
    "import asyncio\nawait asyncio.sleep(0)",
    "import keras\nimport sys\nprint(sys.version, keras.__version__, type(model).__name__)",
    "X_train = X_train[..., np.newaxis]\nimages = np.stack([china, flower]).astype(np.float32)",
    "import time\nstart = time.time()\nelapsed = time.time() - start",
    "checks.close('x', 1, 1)\nTRAINING = budget.training('mnist_cnn')",
    "__all__ = ['ResidualUnit']\nfrom . import helpers",
])
def test_ordinary_code_is_left_alone(source: str) -> None:
    assert _found(source, COURSE) == []


# ---- whole notebooks

LOCKED = {"setup": "import numpy as np", "test_a": "assert x == 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS",
          "test_b": "assert x > 0"}


def _v3(*sources: tuple[str, str | None]) -> dict:
    """A notebook in format version 3 (cells in worksheets), as plain JSON data."""
    v3 = nbformat.v3
    found = []
    for source, grade_id in sources:
        cell = v3.new_code_cell(input=source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": grade_id.startswith("test"),
                                         "grade": grade_id.startswith("test"), "solution": False}
        found.append(cell)
    return json.loads(v3.writes_json(v3.new_notebook(worksheets=[v3.new_worksheet(cells=found)])))


def test_a_notebook_of_an_older_format_is_read_as_nbgrader_upgrades_it() -> None:
    nb = _v3(("import numpy as np", "setup"), ("x = 1", "answer"), ("import autograder.kernel_answers", None),
             ("assert x > 0", "test_b"))
    assert "worksheets" in nb and "cells" not in nb
    assert scan_submission(nb, LOCKED).reports == (
        "cell 3, line 1: imports from the kit's package (autograder.kernel_answers) in its own code",)
    assert scan_submission(_v3(("x = 1", "answer")), LOCKED).reports == ()
    assert len(as_run(nb)["cells"]) == 4


SUSPICIOUS = "import sys\nsys.modules['x'] = checks\nexec('1')\nget_ipython().kernel"


@pytest.mark.parametrize("make", [_nb, _v3], ids=["v4", "v3"])
def test_the_assignments_own_cells_are_not_read(make) -> None:
    # The tests (run by the judge) and the given code (put back by nbgrader), from the gradebook:
    # not read, even where the notebook's copy of them has lost its metadata.
    locked = {"setup": f"from autograder import checks\n{SUSPICIOUS}", "test_a": f"checks.close(x)\n{SUSPICIOUS}",
              "test_b": "### BEGIN HIDDEN TESTS\nimport autograder.judge\n### END HIDDEN TESTS\nassert x"}
    nb = make((locked["setup"], "setup"), ("x = 1", "answer"), (locked["test_a"], "test_a"),
              ("assert x", None), (locked["test_a"], None), (locked["test_b"], "test_b"), ("pass  # edited", "test_a"))
    assert scan_submission(nb, locked).reports == ()


def test_the_students_own_cells_are_read_whatever_their_metadata() -> None:
    nb = _nb(("import numpy as np", "setup"), ("x = 1\nimport socket", "answer"),
             ("assert x == 1", None), ("exec('x')", None), ("import gc", "bonus"))
    assert scan_submission(nb, LOCKED).reports == (
        "cell 2 (answer), line 2: imports socket, which opens network connections",
        "cell 4, line 1: calls exec(), which runs code built at run time",
        "cell 5 (bonus), line 1: imports gc, which reaches other objects through the garbage collector")


def test_a_copy_of_a_locked_cell_that_hides_code_is_read_as_written() -> None:
    hidden = "assert x == 1\n### BEGIN HIDDEN TESTS\nimport socket\n### END HIDDEN TESTS"
    nb = _nb(("import numpy as np", "setup"), ("x = 1", "answer"), (LOCKED["test_a"], "test_a"), (hidden, None))
    markers = ("writes hidden-test markers in its own cell (nbgrader removes hidden tests only from the "
               "assignment's own cells, so this code runs)")
    assert scan_submission(nb, LOCKED).reports == (
        f"cell 4, line 2: {markers}", "cell 4, line 3: imports socket, which opens network connections",
        f"cell 4, line 4: {markers}")


def test_aliases_carry_from_cell_to_cell() -> None:
    locked = {**LOCKED, "setup": "from autograder import checks\nimport numpy as np"}
    nb = _nb((locked["setup"], "setup"), ("t = np.testing", None), ("x = 1\nt.assert_allclose = print", "answer"))
    assert scan_submission(nb, locked).reports == (
        ("cell 3 (answer), line 2: replaces np.testing.assert_allclose, part of a library the tests use "
        "(written t.assert_allclose)"),)


def test_future_features_of_earlier_cells_apply_to_later_ones() -> None:
    nb = _nb(("from __future__ import barry_as_FLUFL", None),
             ("if 1 <> 2:\n    import socket", "answer"), ("x = 1 != 2", None))
    scanned = scan_submission(nb, LOCKED)
    assert scanned.reports == ("cell 2 (answer), line 2: imports socket, which opens network connections",)
    assert [(u.cell, u.where, u.error.lineno) for u in scanned.unparsed] == [(2, "cell 3", 1)]
    assert "with Barry as BDFL" in scanned.unparsed[0].error.msg


def test_a_future_import_anywhere_at_the_top_level_turns_its_feature_on() -> None:
    # IPython compiles each top-level statement on its own, so this import is not misplaced there.
    nb = _nb(("x = 1\nfrom __future__ import barry_as_FLUFL", None), ("y = 1 <> 2\nexec('z')", None))
    assert scan_submission(nb, LOCKED).reports == ("cell 2, line 2: calls exec(), which runs code built at run time",)


def test_a_cell_that_does_not_parse_is_returned_apart() -> None:
    nb = _nb(("x = 1", "answer"), ("\nexec('x')\nif x\n    y = 2", None))
    scanned = scan_submission(nb, LOCKED)
    assert scanned.reports == () and not scanned.flagged
    [unparsed] = scanned.unparsed
    assert (unparsed.cell, unparsed.grade_id, unparsed.error.lineno) == (1, None, 3)
    assert unparsed.source == "\nexec('x')\nif x\n    y = 2"


@pytest.mark.parametrize("source", ["x = " + "1 + " * 100_000 + "1", "x = " + "-" * 100_000 + "1",
                                    "f" + "(x)" * 50_000, "x = " + "1 + " * 3_000 + "1"],
                         ids=["long sum", "many minus signs", "many calls", "sum deeper than the visitor"])
def test_code_nested_too_deeply_is_returned_apart_not_a_crash(source: str) -> None:
    scanned = scan_submission(_nb((source, None)), LOCKED)
    assert [u.error.msg for u in scanned.unparsed] == ["nested too deeply for the scan to read"]


def test_code_nested_in_code_is_read_to_a_depth() -> None:
    source = "exec('x')"
    for _ in range(12):
        source = f"exec({source!r})"
    assert (1, "nests code in code more than 8 deep; not read further") in _found(source)


@pytest.mark.parametrize("nb", [
    {}, {"cells": "none"}, {"cells": [None, 3, {"cell_type": "code"}]},
    {"cells": [{"cell_type": "code", "metadata": [], "source": ["x = 1\n", 2], "outputs": "none"}]},
    {"cells": [{"cell_type": "markdown", "attachments": [1], "source": None}], "metadata": None},
    {"nbformat": 3, "worksheets": "none"}, {"nbformat": 99, "cells": []},
], ids=["empty", "cells not a list", "cells not objects", "odd fields", "odd markdown", "odd v3", "unknown version"])
def test_a_malformed_notebook_is_read_without_error(nb: dict) -> None:
    assert scan_submission(nb, LOCKED).reports == ()


def _executed(source: str, outputs: list[dict], count: int | None = 1) -> dict:
    return {"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": outputs,
                       "execution_count": count}]}


def _error(ename: str, traceback: list[str]) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": "invalid syntax", "traceback": traceback}


_PARSE_FAILED = _error("SyntaxError", ["  Cell In[3], line 1\n    if x\n        ^\nSyntaxError: invalid syntax"])
_RAISED = _error("SyntaxError", ["Traceback (most recent call last):\n", "  Cell In[3], line 4\n    compile('(')"])
_IN_MAGIC = _error("SyntaxError", ["Traceback (most recent call last):\n",
                                   "  Cell In[3], line 1\n    get_ipython().run_cell_magic('time', '', ...)"])


@pytest.mark.parametrize("outputs, count, flagged", [
    ([], 5, True),
    ([{"output_type": "stream", "name": "stdout", "text": "done\n"}], None, True),
    ([_RAISED], 5, True),
    ([_PARSE_FAILED], 5, False),
    ([_error("IndentationError", ["  Cell In[3], line 2"])], 5, False),
    ([_IN_MAGIC], 5, False),
    ([{"output_type": "error", "ename": "CellNotRun", "evalue": "not run", "traceback": []}], None, False),
    ([], None, False),
], ids=["ran", "printed", "raised a SyntaxError itself", "did not parse", "bad indentation",
        "a magic's body did not parse", "not run", "never run"])
def test_a_cell_the_scan_could_not_read_is_flagged_if_it_ran(outputs: list, count: int | None, flagged: bool) -> None:
    source = "x = 1\nif x\n    y = 2"
    [unparsed] = scan_submission(_nb((source, "answer")), LOCKED).unparsed
    found = unreadable_cells_that_ran(_executed(source, outputs, count), [unparsed])
    expected = [("cell 1 (answer) could not be read by the review scan but ran; a person should read it "
                "(the scan's parser said: expected ':', line 2).")]
    assert found == (expected if flagged else [])


def test_a_cell_not_in_the_executed_notebook_is_not_flagged() -> None:
    [unparsed] = scan_submission(_nb(("if x\n    y = 2", None)), LOCKED).unparsed
    assert unreadable_cells_that_ran(_executed("assert x > 0", []), [unparsed]) == []


def _with_outputs(outputs: list[dict], *, attachments: dict | None = None) -> dict:
    nb = _nb(("x = 1", "answer"))
    nb["cells"][0]["outputs"] = outputs
    if attachments is not None:
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "![w](attachment:w.bin)",
                            "attachments": attachments})
    return nb


_BIG = base64.b64encode(bytes(NOTEBOOK_PAYLOAD_LIMIT + 100_000)).decode()


@pytest.mark.parametrize("nb, report", [
    (_with_outputs([{"output_type": "display_data", "metadata": {},
                     "data": {"application/octet-stream": _BIG, "text/plain": "<weights>"}}]),
     f"carries 1,496 KiB of data in cell 1 (answer): output application/octet-stream (1,496 KiB); {_WEIGHTS}"),
    (_with_outputs([{"output_type": "stream", "name": "stdout", "text": _BIG}]),
     f"carries 1,496 KiB of data in cell 1 (answer): output stream (1,496 KiB); {_WEIGHTS}"),
    (_with_outputs([], attachments={"w.bin": {"application/octet-stream": _BIG}}),
     f"carries 1,496 KiB of data in cell 2: attachment application/octet-stream (1,496 KiB); {_WEIGHTS}"),
], ids=["output", "printed", "attachment"])
def test_data_carried_beside_the_code_is_reported(nb: dict, report: str) -> None:
    assert scan_submission(nb, LOCKED).reports == (report,)


def test_images_and_ordinary_outputs_are_not_data() -> None:
    nb = _with_outputs([{"output_type": "display_data", "metadata": {},
                         "data": {"image/png": _BIG, "text/plain": "<Figure size 1200x400 with 2 Axes>"}},
                        {"output_type": "stream", "name": "stdout", "text": "Epoch 1/2\n1719/1719 - 9s\n" * 200}],
                       attachments={"plot.png": {"image/png": _BIG}})
    assert scan_submission(nb, LOCKED).reports == ()


def test_data_spread_over_many_cells_is_reported() -> None:
    nb = _nb(*[(f"part_{i} = '{_BASE64[:12_000]}'", None) for i in range(12)])
    assert scan_submission(nb, LOCKED).reports == (
        (f"carries 141 KiB of data in the literals and comments of 12 cells (cell 1, cell 2, cell 3, "
        f"cell 4, cell 5, ...); {_WEIGHTS}"),)


def test_the_limits_are_where_the_reasons_say() -> None:
    assert _found(f"w = '{'a' * LITERAL_LIMIT}'") == []
    assert _found("w = [" + "1, " * CELL_NUMBERS_LIMIT + "]") == []
    assert _found(f"w = '{'a' * (LITERAL_LIMIT + 1)}'") != []
    assert _found("w = [" + "1, " * (CELL_NUMBERS_LIMIT + 1) + "]") != []
    half = "a" * (CELL_DATA_LIMIT // 2)  # a literal at LITERAL_LIMIT, and a comment as large
    assert _found(f"w = '{half}'\n#{half[1:]}") == []
    assert _found(f"w = '{half}'\n#{half}") != []
    under = _nb(*[(f"part_{i} = '{'a' * (NOTEBOOK_LITERALS_LIMIT // 8)}'", None) for i in range(8)])
    assert scan_submission(under, LOCKED).reports == ()


# ---- the course's own notebooks, and the adversarial corpus


def _locked(repo: Path, assignment_id: str) -> dict[str, str]:
    source = nbformat.read(repo / "source" / assignment_id / f"{assignment_id}.ipynb", 4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
            if c.metadata.get("nbgrader", {}).get("locked")}


def test_no_reference_solution_or_honest_sample_submission_is_flagged(repo: Path) -> None:
    """The reference solutions, the untouched release notebooks, correct alternatives and
    realistic mistakes of the sample class: none is flagged, and every cell parses."""
    from autograder.authoring.course import ASSIGNMENT_IDS
    from autograder.authoring.samples import sample_class

    solutions = sorted((repo / "solutions").glob("*/*.ipynb"))
    assert {path.parent.name for path in solutions} == set(ASSIGNMENT_IDS)
    for path in solutions:
        scanned = scan_submission(json.loads(path.read_text(encoding="utf-8")), _locked(repo, path.parent.name))
        assert scanned.reports == () and scanned.unparsed == (), path
    for assignment_id in ASSIGNMENT_IDS:
        locked = _locked(repo, assignment_id)
        for item in sample_class.submissions(repo, [assignment_id]):
            scanned = scan_submission(json.loads(nbformat.writes(item.notebook)), locked)
            assert scanned.reports == () and scanned.unparsed == (), f"{item.student}/{assignment_id}"


#: Review reasons of the corpus that other checks give (:mod:`autograder.batch.review.locked`).
_NOT_THE_SCANS = ("a locked cell was edited", "nbgrader metadata was changed")


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.expected.placed and (e.expected.no_review or (
    e.expected.review and not e.expected.review.startswith(_NOT_THE_SCANS)))], ids=lambda e: e.name)
def test_the_corpus_gets_the_review_reasons_it_expects_from_the_scan(repo: Path, tmp_path: Path, entry: Entry) -> None:
    files = entry.build(repo, Context(course=tmp_path, canary=tmp_path / "canary", port=9))
    nb = json.loads(next(data for name, data in files.items() if name.endswith(".ipynb")))
    reports = scan_submission(nb, _locked(repo, "images")).reports
    if entry.expected.no_review:
        assert reports == ()
    else:
        assert any(entry.expected.review in r for r in reports), reports


@pytest.mark.parametrize("name", ["fake-observer", "namespace-intercept"])
def test_the_corpus_attacks_on_the_kernels_side_are_flagged(repo: Path, tmp_path: Path, name: str) -> None:
    entry = next(e for e in ENTRIES if e.name == name)
    files = entry.build(repo, Context(course=tmp_path, canary=tmp_path / "canary", port=9))
    reports = "\n".join(scan_submission(json.loads(files["images.ipynb"]), _locked(repo, "images")).reports)
    assert "autograder" in reports and ("shell_handlers" in reports or "__import__" in reports), reports
