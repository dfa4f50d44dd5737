"""Observations cross from the kernel to the judge as JSON and raw buffers; the judge rebuilds
only plain arrays of numbers and the registered views."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import wire
from autograder.checks.observe import ArrayView, LayerView, ValueView
from autograder.weights import LeafWeights


def roundtrip(tree):
    data, buffers = wire.encode(tree)
    return wire.decode(data, [bytes(b) for b in buffers])


def test_views_numbers_tuples_and_arrays_come_back_as_they_were() -> None:
    layer = LayerView("Conv2D", ("Conv2D", "Layer"), {"kernel_size": (3, 3), "activation": "relu"},
                      {"kernel": np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)}, (28, 28, 4), 16)
    tree = {"layer": layer, "values": [1, 2.5, float("nan"), float("inf"), None, "text", (1, 2)],
            "leaf": LeafWeights("Dense", (np.ones((2, 3)), np.zeros(3)))}
    back = roundtrip(tree)
    assert back["layer"].settings == {"kernel_size": (3, 3), "activation": "relu"}
    assert back["layer"].weights["kernel"].dtype == np.float32
    np.testing.assert_array_equal(back["layer"].weights["kernel"], layer.weights["kernel"])
    assert back["values"][:2] == [1, 2.5] and np.isnan(back["values"][2]) and back["values"][6] == (1, 2)
    assert back["leaf"].signature() == "Dense[(2, 3), (3,)]"


def test_an_array_subclass_arrives_as_a_plain_ndarray() -> None:
    class Sub(np.ndarray):
        pass

    back = roundtrip(ArrayView("Sub", (2,), "float64", np.zeros(2).view(Sub)))
    assert type(back.values) is np.ndarray


@pytest.mark.parametrize("data, buffers, wording", [
    ({"__array__": 0, "dtype": "|O", "shape": [1]}, [b"\0" * 8], "expected numbers"),
    ({"__array__": 0, "dtype": "<f8", "shape": [3]}, [b"\0" * 8], "needs 24 bytes, got 8"),
    ({"__array__": 2, "dtype": "<f8", "shape": [1]}, [b"\0" * 8], "no such buffer"),
    ({"__view__": "Popen", "fields": {}}, [], "expected one of"),
    ({"__view__": "ValueView", "fields": {"type_name": "x"}}, [], "expected fields"),
    ({"__float__": "1e999"}, [], "expected nan, inf or -inf"),
    ({"pickle": "gASV"}, [], "unknown form"),
])
def test_what_is_not_a_well_formed_observation_is_refused(data, buffers, wording) -> None:
    with pytest.raises(wire.WireError, match=wording):
        wire.decode(data, buffers)


def test_objects_that_are_not_observations_are_not_sent() -> None:
    with pytest.raises(wire.WireError, match="expected an observation, got a object"):
        wire.encode(object())
    with pytest.raises(wire.WireError, match="expected numbers"):
        wire.encode(np.array([object()]))
    assert roundtrip(ValueView("Anything", "<Anything>")).text == "<Anything>"
