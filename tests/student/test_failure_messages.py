"""The wording of check failures: `<what>: expected X, got Y. <likely cause>`."""

import numpy as np
import pytest

from autograder.checks import CheckFailure, between, close, equal, failure_message, floating, shape


def test_message_has_what_expected_got_and_cause():
    message = failure_message("image_after_conv.shape", (2, 427, 640, 5), (2, 421, 634, 5),
                              "Check the padding.")
    assert message == ("image_after_conv.shape: expected (2, 427, 640, 5), got (2, 421, 634, 5). "
                       "Check the padding.")


def test_failure_is_an_assertion_error_carrying_its_parts():
    with pytest.raises(AssertionError) as info:
        equal("u", 5, 7, "u is the side of the square kernel.")
    assert isinstance(info.value, CheckFailure)
    assert (info.value.what, info.value.expected, info.value.got) == ("u", 7, 5)
    assert str(info.value) == "u: expected 7, got 5. u is the side of the square kernel."


def test_shape_reports_both_shapes():
    with pytest.raises(CheckFailure, match=r"^images.shape: expected \(2, 427, 640, 3\), got "
                                           r"\(854, 640, 3\)\. Stack"):
        shape("images", np.zeros((854, 640, 3)), (2, 427, 640, 3), "Stack them.")


def test_shape_of_something_without_a_shape():
    with pytest.raises(CheckFailure, match="expected \\(5,\\), got a list with no shape"):
        shape("y", [1, 2, 3, 4, 5], (5,))


def test_shape_accepts_none_as_any_size():
    shape("batch", np.zeros((7, 10)), (None, 10))


def test_between_reports_the_range_found():
    with pytest.raises(CheckFailure, match=r"range of china: expected values in \[0, 1\], got "
                                           r"values in \[0, 255\]\. Divide"):
        between("china", np.array([0.0, 255.0]), 0, 1, "Divide the pixel values by 255.")


def test_floating_rejects_integer_arrays():
    with pytest.raises(CheckFailure, match=r"china.dtype: expected a floating-point dtype, got uint8"):
        floating("china", np.zeros(3, dtype=np.uint8))
    floating("china", np.zeros(3, dtype=np.float32))


def test_close_names_the_first_differing_element_and_the_count():
    expected = np.arange(6.0).reshape(2, 3)
    got = expected.copy()
    got[1, 2] = 0
    with pytest.raises(CheckFailure, match=r"^x\[1, 2\]: expected 5, got 0 \(1 of 6 values differ\)\."):
        close("x", got, expected)


def test_close_accepts_float32_against_float64():
    reference = np.random.default_rng(0).random((4, 4))
    close("x", reference.astype(np.float32), reference, atol=1e-6)


def test_close_refuses_a_printout():
    with pytest.raises(CheckFailure, match="type of x: expected an array or a tensor, got a str"):
        close("x", "(2, 427, 640, 5)", np.zeros(3))
