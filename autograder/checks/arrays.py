"""Checks on plain values and arrays: shapes, ranges, element-wise agreement.

Every check raises :class:`~autograder.checks.failure.CheckFailure` with the whole explanation in
its message, and returns nothing when the value is right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.failure import CheckFailure, describe


def as_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a NumPy array (tensors included), or a failure naming ``name``."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    if hasattr(value, "shape") and hasattr(value, "__array__"):
        return np.asarray(value)
    raise CheckFailure(
        f"type of {name}",
        "an array or a tensor",
        f"a {type(value).__name__}",
        f"{name} must hold the computed array itself, not a printout or a stored number.",
    )


def equal(name: str, value: Any, expected: Any, cause: str = "") -> None:
    """``value == expected`` for plain values (numbers, strings, tuples)."""
    same = value == expected
    if isinstance(same, np.ndarray):
        same = bool(same.all()) and np.shape(value) == np.shape(expected)
    if not same:
        raise CheckFailure(name, expected, value, cause)


def shape(name: str, value: Any, expected: tuple[int | None, ...], cause: str = "") -> None:
    """``value.shape == expected``, ``None`` in ``expected`` matching any size on that axis."""
    got = getattr(value, "shape", None)
    if got is None:
        raise CheckFailure(
            f"{name}.shape", tuple(expected), f"a {type(value).__name__} with no shape",
            cause or f"{name} must be an array or a tensor.",
        )
    got = tuple(None if d is None else int(d) for d in got)
    expected = tuple(expected)
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        raise CheckFailure(f"{name}.shape", expected, got, cause)


def floating(name: str, value: Any, cause: str = "") -> None:
    """The array holds floating-point numbers (float16, float32 or float64 all pass)."""
    array = as_array(name, value)
    if not np.issubdtype(array.dtype, np.floating):
        raise CheckFailure(f"{name}.dtype", "a floating-point dtype", str(array.dtype), cause)


def between(name: str, value: Any, low: float, high: float, cause: str = "") -> None:
    """Every element lies in ``[low, high]``."""
    array = as_array(name, value)
    if array.size == 0:
        raise CheckFailure(name, f"values in [{low}, {high}]", "an empty array", cause)
    lo, hi = float(np.min(array)), float(np.max(array))
    if lo < low or hi > high:
        raise CheckFailure(
            f"range of {name}", f"values in [{low:g}, {high:g}]", f"values in [{lo:.6g}, {hi:.6g}]", cause
        )


def close(name: str, value: Any, expected: Any, *, atol: float = 1e-5, rtol: float = 1e-4,
          cause: str = "") -> None:
    """Same shape as ``expected`` and every element within ``atol + rtol * |expected|``.

    The dtypes may differ (a float32 answer matches a float64 reference).
    """
    got = as_array(name, value)
    want = np.asarray(expected)
    shape(name, got, want.shape, cause)
    bad = ~np.isclose(got.astype(np.float64), want.astype(np.float64), atol=atol, rtol=rtol)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailure(
            f"{name}{list(where)}",
            describe(float(want[where])),
            describe(float(got[where])) + f" ({int(bad.sum())} of {bad.size} values differ)",
            cause,
        )
