"""What the scan reports, with its wording: the facilities through which a student's own code
could reach past its merit (the kit's kernel-side modules, the interpreter's reflection, IPython's
shell), each with what it can do. Reading one is reported whatever name it is reached by."""

from __future__ import annotations

_FRAMES = "reaches the frames of running code and their variables"
_TRACE = "sets a trace function, able to see and change every line the tests run"
_PROFILE = "sets a profile function, able to see every call the tests make"
_LOOKUP = "finds a module or an object by its dotted name"
_GC = "reaches other objects through the garbage collector"
_IMPORTS = "decides what later imports load"
_INTERNAL = "leads to other code's objects and names"
_NETWORK = "opens network connections"
_UNPICKLE = "can run code hidden in the data it loads"

#: The start of each report of a use of IPython's shell.
SHELL = "uses the IPython shell that runs the tests"

#: Modules whose import alone is reported (a module or a package and all it holds).
MODULES = {
    "ctypes": "loads C code into the kernel", "subprocess": "starts other programs",
    "socket": _NETWORK, "urllib": _NETWORK, "requests": _NETWORK, "http": _NETWORK,
    "signal": "handles signals", "multiprocessing": "starts processes",
    "importlib": "imports modules by computed names", "pkgutil": _LOOKUP, "pydoc": _LOOKUP,
    "zipimport": "imports modules by computed names", "runpy": "runs other Python files",
    "unittest.mock": "replaces objects by their dotted names", "logging.config": _LOOKUP,
    "builtins": "reaches Python's builtins", "gc": _GC, "__main__": "reaches the kernel's global names",
    "IPython": "reaches the IPython shell that runs the tests",
    "ipykernel": "reaches the kernel that runs the tests",
    "pickle": _UNPICKLE, "dill": _UNPICKLE, "cloudpickle": _UNPICKLE, "joblib": _UNPICKLE,
    "shelve": "stores pickles, able to run code hidden in the data", "marshal": "loads compiled code",
    "copyreg": "changes how objects are pickled and unpickled",
    "code": "runs code built at run time", "codeop": "compiles code built at run time",
    "timeit": "compiles code given as strings",
    "pdb": "sets a trace function on the tests", "bdb": "sets a trace function on the tests",
    "trace": "sets a trace function on the tests",
}

#: What reaching a name, a module's attribute or any object's attribute can do. A key is a
#: builtin (``exec``), a module's attribute (``sys.exit``), or ``.name``: an attribute of that
#: name on anything, however its owner was reached. "": a function of ``os`` said by its name.
REACHES = {
    # Code built at run time, and names looked up at run time.
    "exec": "runs code built at run time", "eval": "runs code built at run time",
    "compile": "compiles code built at run time", "breakpoint": "sets a trace function on the tests",
    "__import__": "imports a module by name", ".__import__": "imports a module by name",
    "getattr": "reads an attribute by a computed name", "setattr": "replaces an attribute by name",
    "delattr": "deletes an attribute by name", "globals": "reaches the kernel's global names",
    "locals": "reaches the names of the running code", "vars": "reaches an object's namespace",
    ".import_module": _LOOKUP, ".resolve_name": _LOOKUP, ".attrgetter": _LOOKUP,
    ".methodcaller": _LOOKUP, ".find_spec": _LOOKUP, ".module_from_spec": _LOOKUP,
    ".spec_from_file_location": _LOOKUP, ".exec_module": _LOOKUP, ".load_module": _LOOKUP,
    ".deserialize_keras_object": _LOOKUP, "pydoc.locate": _LOOKUP,
    # What holds the modules, the builtins and other code's objects.
    ".modules": "holds the modules the tests use", ".meta_path": _IMPORTS, ".path_hooks": _IMPORTS,
    ".path_importer_cache": _IMPORTS, ".get_objects": _GC, ".get_referrers": _GC, ".get_referents": _GC,
    "__builtins__": "holds the builtins every cell uses", "__loader__": _INTERNAL, "__spec__": _INTERNAL,
    **{f".{name}": _INTERNAL for name in (
        "__builtins__", "__globals__", "__code__", "__closure__", "__subclasses__", "__dict__",
        "__self__", "__func__", "__wrapped__", "__setattr__", "__delattr__", "__getattribute__",
        "__loader__", "__spec__", "cell_contents")},
    ".ModuleType": "builds a module at run time", ".FunctionType": "builds a function from a code object",
    ".CodeType": "builds a code object",
    # Frames, traces and hooks.
    ".settrace": _TRACE, ".settrace_all_threads": _TRACE, ".setprofile": _PROFILE,
    ".setprofile_all_threads": _PROFILE, "sys.monitoring": "watches every line the tests run",
    ".addaudithook": "sees every sensitive operation the tests make",
    ".walk_stack": _FRAMES, "inspect.stack": _FRAMES, "inspect.trace": _FRAMES,
    **{f".{name}": _FRAMES for name in (
        "_getframe", "_current_frames", "currentframe", "getouterframes", "getinnerframes",
        "f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "ag_frame")},
    # IPython's shell: the handlers of the kernel's requests, the reading of every later cell.
    "get_ipython": SHELL, ".get_ipython": SHELL,
    ".shell_handlers": "answers the kernel's requests in the kit's place",
    ".control_handlers": "answers the kernel's requests in the kit's place",
    **{f".{name}": "changes how the kernel reads every later cell" for name in (
        "input_transformers_cleanup", "input_transformers_post", "ast_transformers")},
    ".user_ns": "reaches the kernel's global names", ".user_global_ns": "reaches the kernel's global names",
    ".run_cell": "runs code built at run time", ".run_cell_async": "runs code built at run time",
    # Ending the kernel, processes and files of the machine.
    "exit": "stops the kernel", "quit": "stops the kernel", "sys.exit": "stops the kernel",
    **{f"os.{name}": "" for name in (
        "_exit", "kill", "killpg", "fork", "forkpty", "system", "popen", "execv", "execve", "execvp",
        "execl", "spawnv", "setsid", "remove", "unlink", "rmdir", "removedirs")},
}

#: Calls whose string arguments the kernel runs as code: the scan reads them as code too.
CODE_CALLS = frozenset({"exec", "eval", "compile", "get_ipython().run_cell",
                        "get_ipython().run_cell_async", "get_ipython().ex", "get_ipython().ev"})

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
    **{name: "can make a comparison or a type check lie" for name in (
        "__eq__", "__ne__", "__bool__", "__len__", "__array__", "__array_ufunc__",
        "__array_function__", "__getattribute__", "__getattr__", "__instancecheck__",
        "__subclasscheck__", "__class__", "__float__", "__index__", "__hash__")},
    **{name: "runs code when an object is unpickled" for name in ("__reduce__", "__reduce_ex__", "__setstate__")},
}

#: Magics a notebook may use without review: plotting, display settings and timing (``matplotlib``
#: with a backend's name only, ``config`` for ``InlineBackend`` only). The code that ``time``,
#: ``timeit``, ``prun`` and ``capture`` run is read like the rest of the cell.
ALLOWED_MAGICS = frozenset({"matplotlib", "time", "timeit", "prun", "capture", "precision",
                            "pprint", "who", "whos", "pinfo", "pinfo2", "psearch", "config"})

#: The report of a student's cell that holds hidden-test markers.
MARKERS = ("writes hidden-test markers in its own cell (nbgrader removes hidden tests only from "
           "the assignment's own cells, so this code runs)")

#: Names standing for libraries the tests use even where no locked cell imports them.
LIBRARIES = frozenset({"np", "numpy", "tf", "tensorflow", "keras", "plt", "matplotlib", "checks",
                       "autograder", "sklearn", "layers", "models", "os", "sys", "builtins"})

#: Spellings of one module or object (the left one is written as the right one).
SAME = (("tensorflow.keras", "keras"), ("IPython.core.getipython.get_ipython", "get_ipython"),
        ("IPython.get_ipython", "get_ipython"), ("posix", "os"), ("nt", "os"))


def reason(path: str) -> str | None:
    """What reaching ``path`` (a name, or a dotted reference with aliases followed) can do, if
    it is reported: its entry in :data:`REACHES`, or that of its last attribute."""
    found = REACHES.get(path)
    if found is None and "." in path:
        found = REACHES.get("." + path.rpartition(".")[2])
    return found


def module_reason(module: str) -> tuple[str, str] | None:
    """(module, what it can do) if importing ``module`` (or anything in it) is reported."""
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        name = ".".join(parts[:end])
        if name in MODULES:
            return name, MODULES[name]
    return None
