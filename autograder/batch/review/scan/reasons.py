"""What the scan reports, with its wording: the modules, builtins, attributes and methods through
which a student's own code could change a grade, each with what it can do."""

from __future__ import annotations

#: Modules whose import alone is reported: each can reach past the kernel's Python objects.
REPORTED_MODULES = {
    "ctypes": "loads C code into the kernel", "subprocess": "starts other programs",
    "socket": "opens network connections", "signal": "handles signals",
    "importlib": "imports modules by computed names", "builtins": "reaches Python's builtins",
    "multiprocessing": "starts processes", "urllib": "opens network connections",
    "requests": "opens network connections", "http": "opens network connections",
    "gc": "reaches other objects through the garbage collector",
    "IPython": "reaches the IPython shell that runs the tests",
    "ipykernel": "reaches the kernel that runs the tests",
    "__main__": "reaches the kernel's global names",
    "pickle": "can run code hidden in the data it loads", "dill": "can run code hidden in the data it loads",
    "cloudpickle": "can run code hidden in the data it loads",
    "joblib": "can run code hidden in the data it loads",
    "shelve": "stores pickles, able to run code hidden in the data",
    "marshal": "loads compiled code", "copyreg": "changes how objects are pickled and unpickled",
    "runpy": "runs other Python files", "code": "runs code built at run time",
    "codeop": "compiles code built at run time", "pdb": "sets a trace function on the tests",
    "bdb": "sets a trace function on the tests", "trace": "sets a trace function on the tests",
    "zipimport": "imports modules by computed names", "pkgutil": "imports modules by computed names",
}

#: Builtins reported wherever they are called.
REPORTED_CALLS = {
    "exec": "runs code built at run time", "eval": "runs code built at run time",
    "compile": "compiles code built at run time", "__import__": "imports a module by name",
    "globals": "reaches the kernel's global names", "locals": "reaches the names of the running code",
    "vars": "reaches an object's namespace",
    "setattr": "replaces an attribute by name", "delattr": "deletes an attribute by name",
    "exit": "stops the kernel", "quit": "stops the kernel",
}

#: Builtins reported where they are used without being called (handed to ``functools.partial``,
#: a decorator, ``map``): they do the same there.
REPORTED_REFERENCES = frozenset(REPORTED_CALLS) - {"exit", "quit"}

#: Attributes of modules reported wherever they are reached, called or not, under any alias.
REPORTED_PATHS = {
    "sys.settrace": "sets a trace function, able to see and change every line the tests run",
    "sys.setprofile": "sets a profile function, able to see every call the tests make",
    "threading.settrace": "sets a trace function, able to see and change every line the tests run",
    "threading.setprofile": "sets a profile function, able to see every call the tests make",
    "threading.settrace_all_threads": "sets a trace function, able to see and change every line the tests run",
    "threading.setprofile_all_threads": "sets a profile function, able to see every call the tests make",
    "sys.monitoring": "watches every line the tests run",
    "sys.addaudithook": "sees every sensitive operation the tests make",
    "sys._getframe": "reaches the frames of running code and their variables",
    "sys._current_frames": "reaches the frames of running code and their variables",
    "inspect.currentframe": "reaches the frames of running code and their variables",
    "inspect.stack": "reaches the frames of running code and their variables",
    "inspect.getouterframes": "reaches the frames of running code and their variables",
    "inspect.trace": "reaches the frames of running code and their variables",
    "sys.modules": "holds the modules the tests use",
    "sys.meta_path": "decides what later imports load", "sys.path_hooks": "decides what later imports load",
    "sys.path_importer_cache": "decides what later imports load",
    "sys.exit": "stops the kernel",
    "types.FunctionType": "builds a function from a code object", "types.CodeType": "builds a code object",
    "types.ModuleType": "builds a module at run time",
}

#: Functions of ``os`` reported wherever they are called.
REPORTED_OS = {"_exit", "kill", "killpg", "fork", "forkpty", "system", "popen", "execv", "execve",
               "execvp", "execl", "spawnv", "setsid", "remove", "unlink", "rmdir", "removedirs"}

#: Methods whose definition lets an object lie to a comparison or a type check.
REPORTED_DUNDERS = {"__eq__", "__ne__", "__bool__", "__len__", "__array__", "__array_ufunc__",
                    "__array_function__", "__getattribute__", "__getattr__", "__instancecheck__",
                    "__subclasscheck__", "__class__", "__float__", "__index__", "__hash__"}

#: Methods that run when an object is unpickled.
UNPICKLING_DUNDERS = {"__reduce__", "__reduce_ex__", "__setstate__"}

#: Attributes whose replacement changes what an object is or does, whatever the object.
REPLACED_INTERNALS = {
    "__code__": "the code a function runs", "__class__": "the class an object or a module belongs to",
    "__dict__": "the namespace of an object", "__globals__": "the global names a function sees",
    "__defaults__": "a function's default arguments",
    "__kwdefaults__": "a function's default keyword arguments",
    "__bases__": "the base classes of a class", "cell_contents": "a variable a closure captured",
}

#: Attributes whose mere reading is reported: they lead to other code's objects.
INTERNAL_ATTRIBUTES = {"__builtins__", "__globals__", "__code__", "__subclasses__", "__dict__",
                       "__self__", "__setattr__", "__delattr__", "__closure__", "f_globals",
                       "f_locals", "f_back", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
                       "ag_frame"}

#: Ways to reach IPython's shell; calling one gives ``get_ipython()``.
SHELL_GETTERS = frozenset({"get_ipython", "IPython.core.interactiveshell.InteractiveShell.instance",
                           "IPython.InteractiveShell.instance",
                           "ipykernel.zmqshell.ZMQInteractiveShell.instance"})

#: The start of each report of a use of IPython's shell.
SHELL_USE = "uses the IPython shell that runs the tests"

#: The report of a student's cell that holds hidden-test markers.
MARKERS = ("writes hidden-test markers in its own cell (nbgrader removes hidden tests only from "
           "the assignment's own cells, so this code runs)")


def reported_path(path: str) -> str | None:
    """What the attribute of a module at ``path`` (aliases followed) can do, if reaching it is
    reported: its reason in :data:`REPORTED_PATHS`, "" for a function of :data:`REPORTED_OS`
    (``os.system``), None if it is not reported."""
    if path in REPORTED_PATHS:
        return REPORTED_PATHS[path]
    return "" if path.startswith("os.") and path[3:] in REPORTED_OS else None


def reported_call(path: str) -> str | None:
    """What calling ``path`` can do, if the call is reported: as :func:`reported_path`, and the
    builtins of :data:`REPORTED_CALLS`."""
    return REPORTED_CALLS[path] if path in REPORTED_CALLS else reported_path(path)


def which(reason: str) -> str:
    """``", which <reason>"`` to end a report with, or nothing for a reason left unsaid ("")."""
    return f", which {reason}" if reason else ""
