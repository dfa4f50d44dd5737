"""The check of a figure of images."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from autograder import checks
from autograder.checks import CheckFailure

A = np.zeros((4, 5, 3))
B = np.ones((4, 5, 3)) / 2


def figure_of(*images):
    fig = plt.figure()
    for i, image in enumerate(images, start=1):
        plt.subplot(1, len(images), i)
        plt.imshow(image)
    plt.close(fig)
    return fig


def test_images_left_to_right_pass():
    checks.shows_images("fig", figure_of(A, B), [A, B], ["china", "flower"])


def test_swapped_images_fail():
    with pytest.raises(CheckFailure, match=r"subplot 1 of fig: expected plt.imshow\(china\), got an "
                                           r"image of shape \(4, 5, 3\) with other pixels"):
        checks.shows_images("fig", figure_of(B, A), [A, B], ["china", "flower"])


def test_one_image_only_fails():
    with pytest.raises(CheckFailure, match="subplots of fig that show an image: expected 2, got 1"):
        checks.shows_images("fig", figure_of(A), [A, B], ["china", "flower"])


def test_not_a_figure_fails():
    with pytest.raises(CheckFailure, match="type of fig: expected a matplotlib Figure, got NoneType"):
        checks.shows_images("fig", None, [A, B], ["china", "flower"])
