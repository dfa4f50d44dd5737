"""The review scan of a submission's own code (``autograder.batch.review.scan``), without running
it: each spelling of what could change a grade but its merit is reported with its wording, the
code magics run is read, aliases and ``__future__`` features carry across cells, data that could
hold trained weights is reported, and ordinary student code is left alone."""

from __future__ import annotations

import base64
import json

import nbformat
import pytest

from autograder.batch.review.scan import (
    CELL_NUMBERS_LIMIT,
    LITERAL_LIMIT,
    NOTEBOOK_LITERALS_LIMIT,
    NOTEBOOK_PAYLOAD_LIMIT,
    protected_names,
    scan_cell,
    scan_notebook,
    scan_submission,
    unreadable_cells_that_ran,
)
from support.notebooks import notebook as _nb

PROTECTED = protected_names(["from autograder import checks\nimport numpy as np"])

#: What the assignments' locked cells bind, for the ordinary code below.
COURSE = protected_names(["from autograder import budget, checks, data\nimport numpy as np\n"
                          "import pandas as pd\nimport tensorflow as tf\nfrom tensorflow import keras\n"
                          "import matplotlib.pyplot as plt\nfrom sklearn.datasets import load_sample_image\n"
                          "print(float('inf'))"])


def _found(source: str, protected: dict = PROTECTED) -> list[tuple[int, str]]:
    return scan_cell(source, protected)


# ---- the spellings the scan knew before (their wording is kept)


@pytest.mark.parametrize("source, reason", [
    ("get_ipython().input_transformers_cleanup.append(lambda l: ['pass\\n'])",
     "uses the IPython shell that runs the tests: get_ipython().input_transformers_cleanup.append"),
    ("ip = get_ipython()", "uses the IPython shell that runs the tests: get_ipython()"),
    ("!curl http://example.com", "a shell command (!)"),
    ("%load_ext autoreload", "%load_ext"),
    ("import sys\nsys.modules['numpy'] = None", "changes sys.modules"),
    ("np.testing.assert_allclose = print", "replaces np.testing.assert_allclose"),
    ("import keras\nkeras.Model.evaluate = None", "replaces keras.Model.evaluate"),
    ("checks.shape = print", "replaces checks.shape"),
    ("checks = None", "rebinds 'checks', a name the tests use"),
    ("import os as np", "rebinds 'np', a name the tests use, to os"),
    ("class A:\n    def __eq__(self, o):\n        return True", "defines __eq__"),
    ("import os\nos._exit(1)", "calls os._exit()"),
    ("import sys\nsys.exit()", "calls sys.exit()"),
    ("exec('1')", "calls exec()"),
    ("f = getattr(np, 'te' + 'sting')", "reads an attribute by a computed name"),
    ("open('/etc/passwd').read()", "opens a file outside its own folder"),
    ("open('../x').read()", "opens a file outside its own folder"),
    ("import socket", "imports socket"),
    ("import ctypes", "imports ctypes"),
    ("__builtins__.print = None", "__builtins__"),
    ("from autograder import checks as c", "imports from the kit's package"),
])
def test_tamper_scan_reports_what_could_change_a_grade(source: str, reason: str) -> None:
    found = _found(source)
    assert any(reason in r for _, r in found), found


# ---- spellings that got past it: (source, line, the whole reason)

_LIBRARY = "part of a library the tests use"

ALIASES = [
    ("k = checks\nk.close = print", 2, f"replaces checks.close, {_LIBRARY} (written k.close)"),
    ("from autograder import checks as k\nk.shape = None", 2,
     f"replaces checks.shape, {_LIBRARY} (written k.shape)"),
    ("a, (b, c) = np, (checks, 1)\nb.shape = print", 2, f"replaces checks.shape, {_LIBRARY} (written b.shape)"),
    ("import numpy as npy\nnpy.testing.assert_allclose = print", 2,
     f"replaces np.testing.assert_allclose, {_LIBRARY} (written npy.testing.assert_allclose)"),
    ("import keras as K\nM = K.Model\nM.evaluate = None", 3,
     f"replaces keras.Model.evaluate, {_LIBRARY} (written M.evaluate)"),
    ("def f(m=checks):\n    m.shape = print", 2, f"replaces checks.shape, {_LIBRARY} (written m.shape)"),
    ("for m in [checks]:\n    m.shape = print", 2, f"replaces m.shape, {_LIBRARY} (through m, which holds checks)"),
    ("d = {'k': checks}\nd['k'].shape = print", 2, f"replaces d[].shape, {_LIBRARY} (through d, which holds checks)"),
    ("[checks][0].shape = print", 1, f"replaces [checks][].shape, {_LIBRARY} (through checks)"),
    ("with contextlib.nullcontext(checks) as m:\n    m.shape = print", 2,
     f"replaces m.shape, {_LIBRARY} (through m, which holds checks)"),
    ("k = checks\ndel k.shape", 2, f"deletes checks.shape, {_LIBRARY} (written k.shape)"),
    ("k = getattr(checks, 'shape')\nk.cache = {}", 2, f"replaces checks.shape.cache, {_LIBRARY} (written k.cache)"),
]

REFERENCES = [
    ("import functools\nfunctools.partial(setattr, checks, 'shape')(print)", 2,
     "refers to setattr without calling it; setattr() replaces an attribute by name"),
    ("import functools\n@functools.partial(setattr, checks, 'shape')\ndef fake(*a):\n    pass", 2,
     "hands checks to the decorator @functools.partial(), which could replace its parts"),
    ("def patch(m):\n    def put(f):\n        m.shape = f\n    return put\n@patch(checks)\ndef fake(*a):\n    pass",
     5, "hands checks to the decorator @patch(), which could replace its parts"),
    ("def patch(m):\n    m.shape = print\npatch(checks)", 3,
     "hands checks to its own function patch(), which could replace its parts"),
    ("list(map(delattr, [checks], ['shape']))", 1,
     "refers to delattr without calling it; delattr() deletes an attribute by name"),
    ("run = exec\nrun('x')", 1, "refers to exec without calling it; exec() runs code built at run time"),
    ("run = exec\nrun('x')", 2, "calls exec(), which runs code built at run time"),
    ("locals()['checks'].shape = print", 1, "calls locals(), which reaches the names of the running code"),
    ("namespace = vars", 1, "refers to vars without calling it; vars() reaches an object's namespace"),
    ("g = globals", 1, "refers to globals without calling it; globals() reaches the kernel's global names"),
    ("c = compile", 1, "refers to compile without calling it; compile() compiles code built at run time"),
    ("load = __import__", 1, "refers to __import__ without calling it; __import__() imports a module by name"),
    ("import builtins\nbuiltins.setattr(checks, 'x', 1)", 2, "calls setattr(), which replaces an attribute by name"),
]

INTERNALS = [
    ("checks.shape.__code__ = (lambda *a: None).__code__", 1,
     "replaces checks.shape.__code__, the code a function runs"),
    ("f = checks.shape\nf.__code__ = g.__code__", 2,
     "replaces checks.shape.__code__, the code a function runs (written f.__code__)"),
    ("checks.__class__ = Fake", 1, "replaces checks.__class__, the class an object or a module belongs to"),
    ("checks.shape.__defaults__ = (1,)", 1, "replaces checks.shape.__defaults__, a function's default arguments"),
    ("checks.shape.__kwdefaults__ = {}", 1,
     "replaces checks.shape.__kwdefaults__, a function's default keyword arguments"),
    ("anything.__dict__ = {}", 1, "replaces anything.__dict__, the namespace of an object"),
    ("f.__closure__[0].cell_contents = 1", 1,
     "replaces f.__closure__[].cell_contents, a variable a closure captured"),
    ("checks.__dict__['shape'] = print", 1, "reaches __dict__, an interpreter internal"),
    ("object.__setattr__(checks, 'shape', print)", 1, "reaches __setattr__, an interpreter internal"),
    ("class Fake:\n    pass\nFake.__eq__ = lambda s, o: True", 3,
     "defines __eq__, which can make a comparison or a type check lie"),
    ("class Fake:\n    __eq__ = lambda s, o: True", 2, "defines __eq__, which can make a comparison or a type check lie"),
    ("Fake = type('Fake', (), {'__eq__': lambda s, o: True})", 1,
     "defines __eq__, which can make a comparison or a type check lie"),
]

_TRACE = "sets a trace function, able to see and change every line the tests run"
_FRAMES = "reaches the frames of running code and their variables"

TRACES = [
    ("from sys import settrace\nsettrace(lambda *a: None)", 1, f"imports sys.settrace, which {_TRACE}"),
    ("from sys import settrace\nsettrace(lambda *a: None)", 2, f"calls sys.settrace(), which {_TRACE}"),
    ("from sys import settrace as st\nst(print)", 2, f"calls sys.settrace(), which {_TRACE}"),
    ("import sys as s\ns.setprofile(print)", 2,
     "calls sys.setprofile(), which sets a profile function, able to see every call the tests make"),
    ("import threading\nthreading.settrace(print)", 2, f"calls threading.settrace(), which {_TRACE}"),
    ("import sys\nhook = sys.settrace", 2, f"reaches sys.settrace, which {_TRACE}"),
    ("import sys\nframe = sys._getframe(1)", 2, f"calls sys._getframe(), which {_FRAMES}"),
    ("import inspect\ninspect.currentframe().f_back.f_globals", 2, f"calls inspect.currentframe(), which {_FRAMES}"),
    ("import inspect\ninspect.currentframe().f_back.f_globals", 2, "reaches f_globals, an interpreter internal"),
    ("from sys import *\nsettrace(print)", 1, "imports everything from sys, sys.settrace among it"),
    ("from sys import *\nsettrace(print)", 2, f"calls sys.settrace(), which {_TRACE}"),
    ("from sys import modules\nmodules['numpy'] = None", 2, "changes sys.modules"),
]

_UNPICKLE = "can run code hidden in the data it loads"

PICKLES = [
    ("import pickle\npickle.loads(b'')", 1, f"imports pickle, which {_UNPICKLE}"),
    ("from pickle import loads", 1, f"imports pickle, which {_UNPICKLE}"),
    ("import dill", 1, f"imports dill, which {_UNPICKLE}"),
    ("import marshal", 1, "imports marshal, which loads compiled code"),
    ("import shelve", 1, "imports shelve, which stores pickles, able to run code hidden in the data"),
    ("import copyreg", 1, "imports copyreg, which changes how objects are pickled and unpickled"),
    ("class E:\n    def __reduce__(self):\n        return (print, ('x',))", 2,
     "defines __reduce__, which runs code when an object is unpickled"),
    ("class E:\n    def __reduce_ex__(self, protocol):\n        return (print, ())", 2,
     "defines __reduce_ex__, which runs code when an object is unpickled"),
    ("class E:\n    def __setstate__(self, state):\n        pass", 2,
     "defines __setstate__, which runs code when an object is unpickled"),
    ("w = np.load('w.npy', allow_pickle=True)", 1, "loads with allow_pickle, which can run code hidden in the data"),
    ("import pandas as pd\nw = pd.read_pickle('w.pkl')", 2, "calls read_pickle(), which can run code hidden in the data"),
    ("m = keras.models.load_model('m.keras', safe_mode=False)", 1,
     "turns off Keras's safe_mode, which lets a saved model run its own code"),
]

_EXEC = "calls exec(), which runs code built at run time"

MAGICS = [
    ("%%time\nchecks.shape = print", 2, f"replaces checks.shape, {_LIBRARY}"),
    ("\n\n%%time\nx = 1\nexec('y')", 5, _EXEC),
    ("%time checks.shape = print", 1, f"replaces checks.shape, {_LIBRARY}"),
    ("%%capture out\nexec('x')", 2, _EXEC),
    ("%%timeit -n 1 -r 1\nimport socket", 2, "imports socket, which opens network connections"),
    ("%%timeit import socket\npass", 1, "imports socket, which opens network connections"),
    ("%timeit -n1 exec('x')", 1, _EXEC),
    ("%%prun -s cumulative\nimport ctypes", 2, "imports ctypes, which loads C code into the kernel"),
    ("%prun -s cumulative checks.shape = print", 1, f"replaces checks.shape, {_LIBRARY}"),
    ("%%time\n%%capture\n%time exec('x')", 3, _EXEC),
    ("%%capture\n%%timeit -n 1 checks.close = 1\nx = 1", 2, f"replaces checks.close, {_LIBRARY}"),
    ("%%capture\nx = 1\n%%timeit -n 1 checks.close = 1", 3, "uses the IPython shell that runs the tests: %%timeit"),
    ("get_ipython().run_cell_magic('time', '', \"exec('x')\")", 1, _EXEC),
    ("ip = get_ipython()\nip.run_line_magic('time', \"exec('1')\")", 2, _EXEC),
    ("%matplotlib {exec('x')}", 1, _EXEC),
    ("%matplotlib {exec('x')}", 1, "uses the IPython shell that runs the tests: %matplotlib"),
    ("%config InlineBackend.figure_format = exec('x')", 1, _EXEC),
    ("%%writefile helper.py\nimport os", 1, "uses the IPython shell that runs the tests: %%writefile"),
    ("get_ipython().run_line_magic('time', code)", 1,
     "uses the IPython shell that runs the tests: %time with arguments built at run time"),
]

_SHELL = "uses the IPython shell that runs the tests"

SHELLS = [
    ("from IPython import get_ipython as g\ng().events", 1,
     "imports IPython, which reaches the IPython shell that runs the tests"),
    ("from IPython import get_ipython as g\ng().events", 2, f"{_SHELL}: get_ipython()"),
    ("import IPython\nIPython.get_ipython().ex('1')", 2, f"{_SHELL}: get_ipython().ex"),
    ("import sys\nmain = sys.modules['__main__']", 2, "reaches sys.modules, which holds the modules the tests use"),
    ("from IPython.core.interactiveshell import InteractiveShell\nInteractiveShell.instance().run_cell('x')",
     2, f"{_SHELL}: get_ipython().run_cell"),
    ("import __main__", 1, "imports __main__, which reaches the kernel's global names"),
    ("g = get_ipython\ng().run_cell('x')", 1, f"{_SHELL}: get_ipython"),
    ("ip = get_ipython()\nip.run_line_magic('load_ext', 'x')", 2, f"{_SHELL}: %load_ext"),
]

_BASE64 = base64.b64encode(bytes(range(256)) * 80).decode()
_WEIGHTS = "trained weights could be hidden in it"

DATA = [
    (f"weights = '{_BASE64}'", 1, f"carries 27 KiB of data in this cell: a string literal of base64-like "
                                  f"text on line 1; {_WEIGHTS}"),
    (f"w = bytes.fromhex('{'0a1b' * 5000}')", 1,
     f"carries 20 KiB of data in this cell: a string literal of hex digits on line 1; {_WEIGHTS}"),
    (f"w = {bytes(range(256)) * 80!r}", 1, f"carries 20 KiB of data in this cell: a string literal of bytes "
                                           f"on line 1; {_WEIGHTS}"),
    (f"w = 0x{'ab' * 9000}", 1, f"carries 18 KiB of data in this cell: a number literal on line 1; {_WEIGHTS}"),
    ("w = np.array([" + ", ".join(f"{i / 7:.4f}" for i in range(2400)) + "])", 1,
     f"carries 18 KiB of data in this cell: 2,400 numbers written as literals, from line 1; {_WEIGHTS}"),
    ("parts = [\n" + "".join(f"    '{_BASE64[:8000]}',\n" for _ in range(10)) + "]", 1,
     f"carries 78 KiB of data in this cell: string literals; {_WEIGHTS}"),
    ("x = 1\n" + "".join(f"# {_BASE64[:1000]}\n" for _ in range(20)), 1,
     f"carries 20 KiB of data in this cell: comments; {_WEIGHTS}"),
    (f"%%time\nx = 1\nweights = '{_BASE64}'", 3, f"carries 27 KiB of data in this cell: a string literal of "
                                                 f"base64-like text on line 3; {_WEIGHTS}"),
]

HIDDEN = [
    ("x = 1\n### BEGIN HIDDEN TESTS\nchecks.shape = print\n### END HIDDEN TESTS", 2,
     "writes hidden-test markers in its own cell (nbgrader removes hidden tests only from the "
     "assignment's own cells, so this code runs)"),
    ("x = 1\n### BEGIN HIDDEN TESTS\nchecks.shape = print\n### END HIDDEN TESTS", 3,
     f"replaces checks.shape, {_LIBRARY}"),
]


def _cases(group: list, name: str) -> list:
    return [pytest.param(*case, id=f"{name}-{number}") for number, case in enumerate(group, 1)]


@pytest.mark.parametrize("source, line, reason", [
    *_cases(ALIASES, "alias"), *_cases(REFERENCES, "reference"), *_cases(INTERNALS, "internal"),
    *_cases(TRACES, "trace"), *_cases(PICKLES, "pickle"), *_cases(MAGICS, "magic"),
    *_cases(SHELLS, "shell"), *_cases(DATA, "data"), *_cases(HIDDEN, "hidden"),
])
def test_each_spelling_is_reported_with_its_line_and_reason(source: str, line: int, reason: str) -> None:
    found = _found(source)
    assert (line, reason) in found, found


@pytest.mark.parametrize("source", [
    "import numpy as np\nchina = np.zeros((2, 2)) / 255",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.imshow([[1]])",
    "class ResidualUnit:\n    def __init__(self, filters):\n        self.filters = filters",
    "model.fit(X, y, epochs=1)\nopen('weights.txt', 'w').write('x')",
    "x = getattr(layer, 'filters')",
    "this is not python (",
    # Code as the assignments ask for it, and as students write it.
    "china = load_sample_image('china.jpg') / 255\nflower = load_sample_image('flower.jpg') / 255",
    "fig = plt.figure(figsize=(12, 4))\nplt.subplot(1, 2, 1)\nplt.imshow(china)\nplt.show()",
    "conv = keras.layers.Conv2D(filters=p, kernel_size=u, strides=s, padding='SAME',\n"
    "                           activation='relu', input_shape=images_shape)",
    "%%time\nmodel.compile(loss='sparse_categorical_crossentropy', optimizer='nadam', metrics=['accuracy'])\n"
    "history = model.fit(X_train[:n], y_train[:n], epochs=TRAINING.epochs, verbose=2)",
    "%time history = model.fit(X_train, y_train, epochs=1)",
    "%timeit np.zeros(10)",
    "%config InlineBackend.figure_format = 'retina'",
    "model.fit?",
    "print(f'test accuracy: {test_accuracy:.4f} after {len(history.epoch)} epochs')",
    'def residual_unit(x):\n    """' + "A residual unit, as in the book. " * 150 + '"""\n    return x',
    "class ResidualUnit(keras.layers.Layer):\n"
    "    def __init__(self, filters, strides=1, activation='relu'):\n"
    "        super().__init__()\n        self.activation = keras.activations.get(activation)\n"
    "    def call(self, inputs):\n        return self.activation(inputs)",
    "from functools import partial\n"
    "DefaultConv2D = partial(keras.layers.Conv2D, kernel_size=3, activation='relu', padding='SAME')",
    "def block(x, activation=keras.activations.relu):\n    return activation(x)\n"
    "y = block(X, activation=keras.activations.relu)",
    "def load(fn, name):\n    return fn(name) / 255\nchina = load(load_sample_image, 'china.jpg')",
    "for layer in model.layers:\n    layer.trainable = False",
    "pd.options.display.max_rows = 100\nplt.rcParams['figure.figsize'] = (8, 4)",
    "import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\nnp.random.seed(42)\ntf.random.set_seed(42)",
    "with tf.GradientTape() as tape:\n    loss = model(X)\ngrads = tape.gradient(loss, model.trainable_variables)",
    "import asyncio\nawait asyncio.sleep(0)",
    "import keras\nimport sys\nprint(sys.version)",
    "X_train = X_train[..., np.newaxis]\nimages = np.array([china, flower], dtype=np.float32)",
    "weights = np.array([[0.1, 0.2], [0.3, 0.4]])",
])
def test_ordinary_code_is_left_alone(source: str) -> None:
    assert _found(source, COURSE) == []


# ---- whole notebooks




LOCKED = {"setup": "import numpy as np", "test_a": "assert x == 1\n### BEGIN HIDDEN TESTS\nassert x\n### END HIDDEN TESTS",
          "test_b": "assert x > 0"}


def test_scan_skips_the_assignments_own_cells_even_without_metadata() -> None:
    nb = _nb(("import numpy as np", "setup"), ("x = 1\nimport socket", "answer"),
             ("assert x == 1", None), ("exec('x')", None))
    reports = scan_notebook(nb, LOCKED)
    assert reports == ["cell 2 (answer), line 2: imports socket, which opens network connections",
                       "cell 4, line 1: calls exec(), which runs code built at run time"]


def test_a_copy_of_a_locked_cell_that_hides_code_is_read_as_written() -> None:
    hidden = "assert x == 1\n### BEGIN HIDDEN TESTS\nimport socket\n### END HIDDEN TESTS"
    nb = _nb(("import numpy as np", "setup"), ("x = 1", "answer"), (LOCKED["test_a"], "test_a"), (hidden, None))
    assert scan_notebook(nb, LOCKED) == [
        "cell 4, line 2: writes hidden-test markers in its own cell (nbgrader removes hidden tests "
        "only from the assignment's own cells, so this code runs)",
        "cell 4, line 3: imports socket, which opens network connections",
        "cell 4, line 4: writes hidden-test markers in its own cell (nbgrader removes hidden tests "
        "only from the assignment's own cells, so this code runs)"]


def test_aliases_carry_from_cell_to_cell() -> None:
    locked = {**LOCKED, "setup": "from autograder import checks\nimport numpy as np"}
    nb = _nb((locked["setup"], "setup"), ("k = checks", None), ("x = 1\nk.shape = print", "answer"))
    assert scan_notebook(nb, locked) == [
        "cell 3 (answer), line 2: replaces checks.shape, part of a library the tests use (written k.shape)"]


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
    assert scan_notebook(nb, LOCKED) == ["cell 2, line 2: calls exec(), which runs code built at run time"]


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


@pytest.mark.parametrize("nb", [
    {}, {"cells": "none"}, {"cells": [None, 3, {"cell_type": "code"}]},
    {"cells": [{"cell_type": "code", "metadata": [], "source": ["x = 1\n", 2], "outputs": "none"}]},
    {"cells": [{"cell_type": "markdown", "attachments": [1], "source": None}], "metadata": None},
], ids=["empty", "cells not a list", "cells not objects", "odd fields", "odd markdown"])
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
def test_a_cell_the_scan_could_not_read_is_flagged_if_it_ran(outputs: list, count: int | None,
                                                             flagged: bool) -> None:
    source = "x = 1\nif x\n    y = 2"
    [unparsed] = scan_submission(_nb((source, "answer")), LOCKED).unparsed
    found = unreadable_cells_that_ran(_executed(source, outputs, count), [unparsed])
    expected = ["cell 1 (answer) could not be read by the review scan but ran; a person should read it "
                "(the scan's parser said: expected ':', line 2)."]
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
     f"carries 1,496 KiB of data in cell 1 (answer): output application/octet-stream (1,496 KiB); "
     f"{_WEIGHTS}"),
    (_with_outputs([{"output_type": "stream", "name": "stdout", "text": _BIG}]),
     f"carries 1,496 KiB of data in cell 1 (answer): output stream (1,496 KiB); {_WEIGHTS}"),
    (_with_outputs([], attachments={"w.bin": {"application/octet-stream": _BIG}}),
     f"carries 1,496 KiB of data in cell 2: attachment application/octet-stream (1,496 KiB); {_WEIGHTS}"),
], ids=["output", "printed", "attachment"])
def test_data_carried_beside_the_code_is_reported(nb: dict, report: str) -> None:
    assert scan_notebook(nb, LOCKED) == [report]


def test_images_and_ordinary_outputs_are_not_data() -> None:
    nb = _with_outputs([{"output_type": "display_data", "metadata": {},
                         "data": {"image/png": _BIG, "text/plain": "<Figure size 1200x400 with 2 Axes>"}},
                        {"output_type": "stream", "name": "stdout", "text": "Epoch 1/2\n1719/1719 - 9s\n" * 200}],
                       attachments={"plot.png": {"image/png": _BIG}})
    assert scan_notebook(nb, LOCKED) == []


def test_data_spread_over_many_cells_is_reported() -> None:
    nb = _nb(*[(f"part_{i} = '{_BASE64[:12_000]}'", None) for i in range(12)])
    assert scan_notebook(nb, LOCKED) == [
        f"carries 141 KiB of data in the literals and comments of 12 cells (cell 1, cell 2, cell 3, "
        f"cell 4, cell 5, ...); {_WEIGHTS}"]


def test_the_limits_are_where_the_reasons_say() -> None:
    assert _found(f"w = '{'a' * LITERAL_LIMIT}'") == []
    assert _found("w = [" + "1, " * CELL_NUMBERS_LIMIT + "]") == []
    assert _found(f"w = '{'a' * (LITERAL_LIMIT + 1)}'") != []
    assert _found("w = [" + "1, " * (CELL_NUMBERS_LIMIT + 1) + "]") != []
    under = _nb(*[(f"part_{i} = '{'a' * (NOTEBOOK_LITERALS_LIMIT // 8)}'", None) for i in range(8)])
    assert scan_notebook(under, LOCKED) == []


def test_no_honest_sample_submission_is_flagged(repo) -> None:
    """The reference solutions, the untouched release notebooks, correct alternatives and
    realistic mistakes of the sample class: none is flagged, and every cell parses."""
    from autograder.authoring.course import ASSIGNMENT_IDS
    from autograder.authoring.samples import sample_class

    for assignment_id in ASSIGNMENT_IDS:
        source = nbformat.read(repo / "source" / assignment_id / f"{assignment_id}.ipynb", 4)
        locked = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                  if c.metadata.get("nbgrader", {}).get("locked")}
        for item in sample_class.submissions(repo, [assignment_id]):
            scanned = scan_submission(json.loads(nbformat.writes(item.notebook)), locked)
            assert scanned.reports == () and scanned.unparsed == (), f"{item.student}/{assignment_id}"
