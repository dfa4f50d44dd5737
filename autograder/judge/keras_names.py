"""``keras``, ``tf`` and ``layers`` in a test cell judged outside the kernel, without TensorFlow.

A test cell may ask ``isinstance(conv, keras.layers.Conv2D)``, ``issubclass(ResidualUnit,
keras.layers.Layer)`` or ``isinstance(t, tf.Tensor)``. The judge imports no TensorFlow, so these
names are stand-ins: ``keras.layers.Conv2D`` is a class whose ``isinstance`` and ``issubclass``
read the class hierarchy the kernel reported for the student's object
(:attr:`autograder.plain.ObjectView.classes`). A class of the kernel matches when it has the same
name and lives in the same library (``keras.layers.Conv2D`` matches
``keras.src.layers.convolutional.conv2d.Conv2D``; ``tf.Tensor`` matches TensorFlow's ``Tensor``).
Anything else a test does with a stand-in (building a layer, calling ``tf.constant``) cannot be
done outside the kernel and fails as the test's error.
"""

from __future__ import annotations

from typing import Any

#: The libraries each stand-in's classes may come from, by the stand-in's root name.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "keras": ("keras", "tf_keras", "tensorflow"),
    "tf": ("tensorflow", "keras", "tf_keras"),
    "tensorflow": ("tensorflow", "keras", "tf_keras"),
}


def _matches(path: str, mro: tuple[str, ...]) -> bool:
    root, name = path.split(".")[0], path.rsplit(".", 1)[-1]
    libraries = LIBRARIES.get(root, (root,))
    return any(entry.rsplit(".", 1)[-1] == name and entry.split(".")[0] in libraries for entry in mro)


class _StandInMeta(type):
    """The metaclass of a stand-in class: membership from the kernel's reported hierarchy."""

    _path: str

    def __instancecheck__(cls, value: Any) -> bool:
        view = value._cnnkit_view if _is_proxy(value) else None
        return bool(view is not None and not view.is_class and _matches(cls._path, view.classes))

    def __subclasscheck__(cls, value: Any) -> bool:
        if isinstance(value, _StandInMeta):
            return value._path == cls._path
        view = value._cnnkit_view if _is_proxy(value) else None
        return bool(view is not None and view.is_class and _matches(cls._path, view.classes))

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        from autograder.judge.proxy import TestCellError

        raise TestCellError(f"{cls._path}(...): a test judged outside the kernel cannot build "
                            f"Keras or TensorFlow objects; compare the student's object with plain "
                            f"values, or call a check.")

    def __repr__(cls) -> str:
        return f"<stand-in for {cls._path}>"


def _is_proxy(value: Any) -> bool:
    from autograder.judge.proxy import Proxy

    return isinstance(value, Proxy)


class StandIn:
    """A module of the stand-in tree (``keras``, ``keras.layers``...): a capitalised attribute
    is a stand-in class, any other a further module."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._made: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in self._made:
            path = f"{self._path}.{name}"
            self._made[name] = (_StandInMeta(name, (), {"_path": path}) if name[:1].isupper()
                                else StandIn(path))
        return self._made[name]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from autograder.judge.proxy import TestCellError

        raise TestCellError(f"{self._path}(...): a test judged outside the kernel cannot call "
                            f"Keras or TensorFlow; compare the student's object with plain values, "
                            f"or call a check.")

    def __repr__(self) -> str:
        return f"<stand-in for {self._path}>"


def stand_ins() -> dict[str, Any]:
    """The names a test cell finds for the libraries: ``keras``, ``tf``, ``tensorflow``,
    ``layers`` (``keras.layers``)."""
    keras = StandIn("keras")
    tf = StandIn("tf")
    return {"keras": keras, "tf": tf, "tensorflow": tf, "layers": keras.layers}
