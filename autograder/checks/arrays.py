"""Checks on plain values and arrays: shapes, ranges, element-wise agreement.

Every check raises :class:`~autograder.checks.failure.CheckFailure` with the whole explanation in
its message, and returns nothing when the value is right. Each reads the answer through
:mod:`autograder.checks.observe`, so it decides the same way at home and in the judge; a large
array from a student's kernel is compared on rows the judge draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import observe
from autograder.checks.failure import CheckFailure
from autograder.checks.observe import ArrayView, ValueView
from autograder.messages import describe

#: Python types whose values have no shape, for the message of :func:`shape`.
_SCALARS = ("int", "float", "bool", "complex")


def as_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a NumPy array (tensors included), or a failure naming ``name``.

    From a student's kernel only arrays up to :data:`~observe.WHOLE_ARRAY_BYTES` are read whole;
    a larger one is a failure here (use :func:`close` or :func:`between`, which sample).
    """
    found = _numeric(name, observe.array(name, value))
    if found.values is None or found.rows is not None:
        raise CheckFailure(f"size of {name}", "an array small enough to read whole",
                           f"an array of shape {found.shape}")
    return found.values


def _numeric(name: str, found: ArrayView, cause: str = "") -> ArrayView:
    if not found.is_array:
        raise CheckFailure(
            f"type of {name}", "an array or a tensor", f"a {found.type_name}",
            cause or f"{name} must hold the computed array itself, not a printout or a stored number.",
        )
    if found.dtype and np.dtype(found.dtype).kind not in "biuf":
        raise CheckFailure(f"{name}.dtype", "numbers", found.dtype,
                           cause or f"{name} must hold numbers.")
    return found


def values_of(name: str, found: ArrayView, cause: str = "") -> np.ndarray:
    """The values of an array-like answer, or a failure naming it when none came (it is not an
    array, or its values were not asked for)."""
    if found.values is None:
        raise CheckFailure(f"type of {name}", "an array or a tensor", f"a {found.type_name}",
                           cause or f"{name} must be an array or a tensor.")
    return found.values


def _same(got: Any, want: Any) -> bool:
    """``got == want`` where a tuple must be a tuple, a list a list, a string a string, and a
    number any number (but not a boolean)."""
    if isinstance(want, (tuple, list)):
        return (type(got) is type(want) and len(got) == len(want)
                and all(_same(g, w) for g, w in zip(got, want)))
    if isinstance(want, bool):
        return isinstance(got, bool) and got == want
    if isinstance(want, (int, float, np.number)):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and got == want
    if isinstance(want, str):
        return isinstance(got, str) and got == want
    if isinstance(want, np.ndarray):
        return isinstance(got, np.ndarray) and got.shape == want.shape and bool(np.all(got == want))
    return not isinstance(got, ValueView) and got == want


def equal(name: str, value: Any, expected: Any, cause: str = "") -> None:
    """``value == expected`` for plain values (numbers, strings, tuples, small arrays); a tuple
    is expected as a tuple, not a list or an array."""
    got = observe.value(name, value)
    if not _same(got, expected):
        raise CheckFailure(name, expected, got, cause)


def shape(name: str, value: Any, expected: tuple[int | None, ...], cause: str = "") -> None:
    """``value.shape == expected``, ``None`` in ``expected`` matching any size on that axis."""
    _shape_is(name, observe.array(name, value, values=False), expected, cause)


def _shape_is(name: str, found: ArrayView, expected: tuple[int | None, ...], cause: str) -> None:
    expected = tuple(expected)
    if not found.is_array or (found.shape == () and found.type_name in _SCALARS):
        raise CheckFailure(
            f"{name}.shape", expected, f"a {found.type_name} with no shape",
            cause or f"{name} must be an array or a tensor.",
        )
    got = found.shape or ()  # not None: it is an array
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        raise CheckFailure(f"{name}.shape", expected, got, cause)


def floating(name: str, value: Any, cause: str = "") -> None:
    """The array holds floating-point numbers (float16, float32 or float64 all pass)."""
    found = _numeric(name, observe.array(name, value, values=False))
    if np.dtype(found.dtype).kind != "f":
        raise CheckFailure(f"{name}.dtype", "a floating-point dtype", found.dtype, cause)


def between(name: str, value: Any, low: float, high: float, cause: str = "") -> None:
    """Every element lies in ``[low, high]`` (a single number counts as an array of one)."""
    found = _numeric(name, observe.array(name, value, stats=True), cause)
    seen = found.values
    if 0 in (found.shape or ()) or (seen is not None and seen.size == 0):
        raise CheckFailure(name, f"values in [{low}, {high}]", "an empty array", cause)
    extremes = [v for v in (found.low, found.high) if v is not None]
    if seen is not None and seen.size:
        extremes += [float(np.min(seen)), float(np.max(seen))]
    lo, hi = min(extremes), max(extremes)
    if np.isnan(lo) or np.isnan(hi) or lo < low or hi > high:
        raise CheckFailure(
            f"range of {name}", f"values in [{low:g}, {high:g}]", f"values in [{lo:.6g}, {hi:.6g}]", cause
        )


def close(name: str, value: Any, expected: Any, *, atol: float = 1e-5, rtol: float = 1e-4,
          cause: str = "") -> None:
    """Same shape as ``expected`` and every element within ``atol + rtol * |expected|``.

    The dtypes may differ (a float32 answer matches a float64 reference). An array too large to
    read whole from a student's kernel is compared on the rows the judge drew.
    """
    want = np.asarray(expected)
    found = _numeric(name, observe.array(name, value), cause)
    _shape_is(name, found, want.shape, cause)
    agree(name, found, want, atol=atol, rtol=rtol, cause=cause)


def agree(name: str, found: ArrayView, want: np.ndarray, *, atol: float, rtol: float,
          cause: str = "", where: str = "") -> None:
    """The observed values agree with ``want`` (the whole expected array; only the observed rows
    are compared). ``where`` names the positions for the message when they are not indices."""
    rows = found.rows
    got = found.values
    reference = want if rows is None else want[rows]
    if got is None or got.shape != reference.shape:
        raise CheckFailure(f"{name}.shape", want.shape, found.shape, cause)
    bad = ~np.isclose(got.astype(np.float64), reference.astype(np.float64), atol=atol, rtol=rtol)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        position = list(index) if rows is None else [int(rows[index[0]]), *index[1:]]
        label = f"{name}{position}" if not where else f"{name} at {where}"
        counted = (f" ({int(bad.sum())} of {bad.size} values differ)" if rows is None
                   else f" ({int(bad.sum())} of {bad.size} values checked differ)")
        raise CheckFailure(label, describe(float(reference[index])),
                           describe(float(got[index])) + counted, cause)


def part_of(name: str, part: Any, whole: Any, *, start: int, stop: int,
            shape: tuple[int, ...] | None = None, atol: float = 1e-6, cause: str = "") -> None:
    """``part`` is ``whole[start:stop]`` (reshaped to ``shape``, when given): a slice of another
    answer, whatever that answer holds. Large arrays are compared on rows the judge draws."""
    length = stop - start
    whole_found = _numeric(f"{name}'s source", observe.array(name, whole, values=False))
    expected = tuple(shape) if shape is not None else (length, *(whole_found.shape or ())[1:])
    found = _numeric(name, observe.array(name, part), cause)
    _shape_is(name, found, expected, cause)
    rows = found.rows if found.rows is not None else np.arange(length)
    if not whole_found.shape or whole_found.shape[0] < stop:
        raise CheckFailure(f"{name}'s source", f"at least {stop} rows", whole_found.shape, cause)
    source = values_of(f"{name}'s source", observe.array(name, whole, rows=rows + start), cause)
    got = values_of(name, found, cause).reshape(len(rows), -1)
    want = source.reshape(len(rows), -1)
    if got.shape != want.shape:
        raise CheckFailure(f"{name}.shape", expected, found.shape, cause)
    agree(name, ArrayView(found.type_name, got.shape, found.dtype, got, None), want, atol=atol,
          rtol=0 if atol == 0 else 1e-4, cause=cause)
