"""Move a trained model's weights between processes, in an order that does not depend on how the
student wrote their layers.

A model's weights are listed *leaf by leaf*: every ``Conv2D``, ``BatchNormalization`` and ``Dense``
in the order the model applies them. Inside a composite layer (a ``ResidualUnit``), the 3x3
convolutions of the main path come first, then the 1x1 projection, each followed by the batch
normalisation that tracks it. Two models whose leaves agree in kind and shape can exchange weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograder.wire import view

LEAF_KINDS = ("Conv2D", "BatchNormalization", "Dense")
#: Variables of each leaf, in a fixed order, by their Keras names.
VARIABLE_ORDER = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance")


class ArchitectureMismatch(ValueError):
    """The weights do not fit the reference architecture; the message names the first misfit."""


def _kind(layer: Any) -> str:
    return type(layer).__name__


def _sublayers(layer: Any) -> list[Any]:
    return list(layer._flatten_layers(include_self=False, recursive=True))


def unit_leaves(unit: Any) -> list[Any]:
    """The leaves of a composite layer: main 3x3 convolutions, then 1x1, each with its BN."""
    pairs: list[list[Any]] = []
    for layer in _sublayers(unit):
        if _kind(layer) in ("Conv2D", "Dense"):
            pairs.append([layer])
        elif _kind(layer) == "BatchNormalization":
            open_pair = next((p for p in reversed(pairs) if len(p) == 1), None)
            if open_pair is None:
                pairs.append([layer])
            else:
                open_pair.append(layer)
    pairs.sort(key=lambda p: 0 if _kind(p[0]) != "Conv2D" or tuple(p[0].kernel_size) != (1, 1) else 1)
    return [leaf for pair in pairs for leaf in pair]


def leaves(model: Any) -> list[Any]:
    """The model's weight-bearing leaf layers in canonical order (see the module docstring)."""
    result = []
    for layer in model.layers:
        if _kind(layer) in LEAF_KINDS:
            result.append(layer)
        elif _sublayers(layer):
            result.extend(unit_leaves(layer))
    return result


def leaves_of(value: Any) -> list[Any]:
    """The canonical leaves of a model (:func:`leaves`), of a composite layer
    (:func:`unit_leaves`), or ``[value]`` for a layer with no layers inside (a ``Conv2D``, or a
    subclass of one): what a check that draws an object's parameters sets, in this order."""
    import keras

    if isinstance(value, keras.Model):
        return leaves(value)
    return unit_leaves(value) if _sublayers(value) else [value]


def _variables(leaf: Any) -> list[Any]:
    by_name = {v.name.split("/")[-1].split(":")[0]: v for v in leaf.weights}
    return [by_name[name] for name in VARIABLE_ORDER if name in by_name]


@view
@dataclass(frozen=True)
class LeafWeights:
    """One leaf's kind and its variables' values, in :data:`VARIABLE_ORDER`."""

    kind: str
    arrays: tuple[np.ndarray, ...]

    def signature(self) -> str:
        """``Conv2D[(3, 3, 1, 32), (32,)]``: what must match between two models."""
        return f"{self.kind}{[tuple(a.shape) for a in self.arrays]}"


def extract(model: Any) -> list[LeafWeights]:
    """The model's weights, leaf by leaf."""
    return [LeafWeights(_kind(leaf), tuple(np.asarray(v) for v in _variables(leaf)))
            for leaf in leaves(model)]


def save(model: Any, path: Path) -> None:
    """Write the model's weights to an ``.npz`` file."""
    save_leaves(extract(model), path)


def save_leaves(leaves: list[LeafWeights], path: Path) -> None:
    """Write weights listed leaf by leaf (:func:`extract`) to an ``.npz`` file."""
    arrays: dict[str, np.ndarray] = {}
    for i, leaf in enumerate(leaves):
        arrays[f"{i:04d}_kind"] = np.array(leaf.kind)
        for j, array in enumerate(leaf.arrays):
            arrays[f"{i:04d}_{j}"] = array
    np.savez(path, **arrays)  # type: ignore[arg-type]  # no key is savez's allow_pickle


def load(path: Path) -> list[LeafWeights]:
    """Read weights written by :func:`save`."""
    with np.load(path) as data:
        count = len([k for k in data.files if k.endswith("_kind")])
        result = []
        for i in range(count):
            kind = str(data[f"{i:04d}_kind"])
            arrays = []
            j = 0
            while f"{i:04d}_{j}" in data.files:
                arrays.append(data[f"{i:04d}_{j}"])
                j += 1
            result.append(LeafWeights(kind, tuple(arrays)))
    return result


def assign(model: Any, saved: list[LeafWeights]) -> None:
    """Give ``model`` the ``saved`` weights; raise :class:`ArchitectureMismatch` where they part."""
    targets = leaves(model)
    for index, (leaf, weights) in enumerate(zip(targets, saved), start=1):
        variables = _variables(leaf)
        want = LeafWeights(_kind(leaf), tuple(np.zeros(v.shape) for v in variables))
        if want.signature() != weights.signature():
            raise ArchitectureMismatch(f"weight layer {index}: expected {want.signature()}, got "
                                       f"{weights.signature()}")
        for variable, array in zip(variables, weights.arrays):
            variable.assign(array)
    if len(targets) != len(saved):
        raise ArchitectureMismatch(f"number of weight layers: expected {len(targets)}, got {len(saved)}")


def leaves_digest(leaves: list[LeafWeights]) -> str:
    """A SHA-256 of weights listed leaf by leaf: their kinds, shapes and values."""
    hasher = hashlib.sha256()
    for leaf in leaves:
        hasher.update(leaf.signature().encode("utf-8"))
        for array in leaf.arrays:
            hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def digest(model: Any) -> str:
    """A SHA-256 of every weight of the model, to tell whether the weights changed."""
    hasher = hashlib.sha256()
    for array in model.get_weights():
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()
