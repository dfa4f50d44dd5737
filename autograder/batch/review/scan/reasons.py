"""What the scan reports, with its wording: the facilities through which a student's own code
could reach past its merit (the kit's kernel-side modules, the interpreter's reflection, IPython's
shell), each with what it can do. Reaching one is reported whatever name it is reached by."""

from __future__ import annotations

import re

_FRAMES = "reaches the frames of running code and their variables"
_TRACE = "sets a trace function, able to see and change every line the tests run"
_PROFILE = "sets a profile function, able to see every call the tests make"
_LOOKUP = "finds a module or an object by its dotted name"
_GC = "reaches other objects through the garbage collector"
_INTERNAL = "leads to other code's objects and names"
_UNPICKLE = "can run code hidden in the data it loads"
_CODE = "runs code built at run time"

#: The start of each report of a use of IPython's shell.
SHELL = "uses the IPython shell that runs the tests"

#: Modules (and packages, with all they hold) whose import alone is reported.
MODULES = {
    "ctypes": "loads C code into the kernel", "subprocess": "starts other programs",
    "signal": "handles signals",
    **dict.fromkeys(("socket", "urllib", "requests", "http"), "opens network connections"),
    "multiprocessing": "starts processes", "importlib": "imports modules by computed names",
    "zipimport": "imports modules by computed names", "pkgutil": _LOOKUP, "pydoc": _LOOKUP,
    "logging.config": _LOOKUP, "unittest.mock": "replaces objects by their dotted names",
    "runpy": "runs other Python files", "builtins": "reaches Python's builtins", "gc": _GC,
    "__main__": "reaches the kernel's global names",
    "IPython": "reaches the IPython shell that runs the tests",
    "ipykernel": "reaches the IPython kernel that runs the tests",
    **dict.fromkeys(("pickle", "dill", "cloudpickle", "joblib"), _UNPICKLE),
    "shelve": "stores pickles, able to run code hidden in the data",
    "marshal": "loads compiled code", "copyreg": "changes how objects are pickled and unpickled",
    "code": _CODE, "codeop": "compiles code built at run time", "timeit": "compiles code given as strings",
    **dict.fromkeys(("pdb", "bdb", "trace"), "sets a trace function on the tests"),
}

#: What reaching a builtin (``exec``), a module's attribute (``sys.exit``) or an attribute of
#: that name on anything (``.f_back``, however its owner was reached) can do ("": said by its name).
REACHES = {
    **dict.fromkeys(("exec", "eval", ".run_cell", ".run_cell_async"), _CODE),
    "compile": "compiles code built at run time", "breakpoint": "sets a trace function on the tests",
    **dict.fromkeys(("__import__", ".__import__"), "imports a module by name"),
    "getattr": "reads an attribute by a computed name", "setattr": "replaces an attribute by name",
    "delattr": "deletes an attribute by name", "globals": "reaches the kernel's global names",
    "locals": "reaches the names of the running code", "vars": "reaches an object's namespace",
    **dict.fromkeys(("pydoc.locate", ".import_module", ".resolve_name", ".attrgetter", ".methodcaller",
                     ".find_spec", ".exec_module", ".module_from_spec", ".spec_from_file_location",
                     ".load_module", ".deserialize_keras_object"), _LOOKUP),
    ".modules": "holds the modules the tests use",
    "inspect.getmodule": "finds the module an object comes from",
    **dict.fromkeys((".ctypeslib", ".pythonapi", ".CDLL", ".PyDLL", ".cdll"), "loads C code into the kernel"),
    **dict.fromkeys((".meta_path", ".path_hooks", ".path_importer_cache"), "decides what later imports load"),
    **dict.fromkeys((".get_objects", ".get_referrers", ".get_referents"), _GC),
    "__builtins__": "holds the builtins every cell uses", "__loader__": _INTERNAL, "__spec__": _INTERNAL,
    **dict.fromkeys((".__builtins__", ".__globals__", ".__code__", ".__closure__", ".__subclasses__",
                     ".__dict__", ".__self__", ".__func__", ".__wrapped__", ".__setattr__", ".__delattr__",
                     ".__getattribute__", ".__loader__", ".__spec__", ".cell_contents"), _INTERNAL),
    ".ModuleType": "builds a module at run time", ".FunctionType": "builds a function from a code object",
    ".CodeType": "builds a code object", ".read_pickle": _UNPICKLE,
    **dict.fromkeys((".settrace", ".settrace_all_threads"), _TRACE),
    **dict.fromkeys((".setprofile", ".setprofile_all_threads"), _PROFILE),
    "sys.monitoring": "watches every line the tests run",
    ".addaudithook": "sees every sensitive operation the tests make",
    **dict.fromkeys(("inspect.stack", "inspect.trace", "._getframe", "._current_frames",
                     ".currentframe", ".getouterframes", ".getinnerframes", ".walk_stack", ".f_back",
                     ".f_globals", ".f_locals", ".f_builtins", ".tb_frame", ".gi_frame", ".cr_frame",
                     ".ag_frame"), _FRAMES),
    **dict.fromkeys(("get_ipython", ".get_ipython"), SHELL),
    **dict.fromkeys((".shell_handlers", ".control_handlers"),
                    "answers the IPython kernel's requests in the kit's place"),
    **dict.fromkeys((".input_transformers_cleanup", ".input_transformers_post", ".ast_transformers"),
                    "changes how IPython reads every later cell"),
    **dict.fromkeys((".user_ns", ".user_global_ns"), "reaches IPython's namespace of the notebook"),
    **dict.fromkeys(("exit", "quit", "sys.exit"), "stops the kernel"),
    **dict.fromkeys(("os._exit", "os.kill", "os.killpg", "os.fork", "os.forkpty", "os.system", "os.popen",
                     "os.execv", "os.execve", "os.execvp", "os.execl", "os.spawnv", "os.setsid", "os.remove",
                     "os.unlink", "os.rmdir", "os.removedirs"), ""),
}

#: Calls whose string arguments the kernel runs as code: the scan reads them as code too.
CODE_CALLS = frozenset({"exec", "eval", "compile", "get_ipython().run_cell", "get_ipython().run_cell_async",
                        "get_ipython().ex", "get_ipython().ev"})

#: Attributes whose replacement changes what an object is or does, whatever the object.
REPLACED = {
    "__code__": "the code a function runs", "__class__": "the class an object or a module belongs to",
    "__dict__": "the namespace of an object", "__globals__": "the global names a function sees",
    "__defaults__": "a function's default arguments",
    "__kwdefaults__": "a function's default keyword arguments",
    "__bases__": "the base classes of a class", "cell_contents": "a variable a closure captured",
}

#: Methods whose definition lets an object lie to a comparison or a type check, or run code.
DEFINED = {
    **dict.fromkeys(("__eq__", "__ne__", "__bool__", "__len__", "__array__", "__array_ufunc__",
                     "__array_function__", "__getattribute__", "__getattr__", "__instancecheck__",
                     "__subclasscheck__", "__class__", "__float__", "__index__", "__hash__"),
                    "can make a comparison or a type check lie"),
    **dict.fromkeys(("__reduce__", "__reduce_ex__", "__setstate__"), "runs code when an object is unpickled"),
}

#: Magics a notebook may use without review: plotting, display settings and timing (``matplotlib``
#: with a backend's name only, ``config`` for ``InlineBackend`` only). The code that ``time``,
#: ``timeit``, ``prun`` and ``capture`` run is read like the rest of the cell.
ALLOWED_MAGICS = frozenset({"matplotlib", "time", "timeit", "prun", "capture", "precision", "pprint",
                            "who", "whos", "pinfo", "pinfo2", "psearch", "config"})

#: Names of the kit and of the facilities above, as a string may spell them (for attrgetter, format...).
NAMED = re.compile(r"autograder|__(?:globals|builtins|subclasses|code|import|loader|spec)__"
                   r"|\bf_(?:back|globals|locals)\b|_getframe|shell_handlers|input_transformers",
                   re.IGNORECASE)

#: The report of a student's cell that holds hidden-test markers.
MARKERS = ("writes hidden-test markers in its own cell (nbgrader removes hidden tests only from "
           "the assignment's own cells, so this code runs)")

#: Spellings of one module or object (the left one is written as the right one).
SAME = (("tensorflow.keras", "keras"), ("IPython.core.getipython.get_ipython", "get_ipython"),
        ("IPython.get_ipython", "get_ipython"), ("posix", "os"), ("nt", "os"))


def reason(path: str) -> str | None:
    """What reaching ``path`` (a name, or a reference with aliases followed) can do, if that is
    reported: its entry in :data:`REACHES`, or that of its last attribute."""
    found = REACHES.get(path)
    return REACHES.get("." + path.rpartition(".")[2]) if found is None and "." in path else found


def module_reason(module: str) -> tuple[str, str] | None:
    """(module, what it can do) if importing ``module`` (or anything in it) is reported."""
    parts = module.split(".")
    return next(((m, MODULES[m]) for m in (".".join(parts[:n]) for n in range(1, len(parts) + 1))
                 if m in MODULES), None)
