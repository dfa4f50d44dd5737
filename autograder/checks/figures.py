"""Checks on Matplotlib figures: which images a figure shows, and where."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from autograder.checks.failure import CheckFailure


def shows_images(name: str, figure: Any, images: Sequence[Any], names: Sequence[str]) -> None:
    """``figure`` has one subplot per image, left to right, each showing that image.

    ``names`` are the images' variable names, for the message.
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise CheckFailure(f"type of {name}", "a matplotlib Figure", type(figure).__name__,
                           f"Create it with {name} = plt.figure() before the subplots.")
    axes = [ax for ax in figure.axes if ax.get_images()]
    if len(axes) != len(images):
        raise CheckFailure(f"subplots of {name} that show an image", len(images), len(axes),
                           f"Use plt.subplot(1, {len(images)}, i) then plt.imshow(...) for each "
                           "image, after creating the figure.")
    axes.sort(key=lambda ax: ax.get_position().x0)
    for position, (ax, image, image_name) in enumerate(zip(axes, images, names), start=1):
        shown = np.asarray(ax.get_images()[-1].get_array())
        if shown.shape != np.shape(image) or not np.allclose(shown, image, atol=1e-6):
            raise CheckFailure(f"subplot {position} of {name}", f"plt.imshow({image_name})",
                               f"an image of shape {shown.shape}" + (
                                   "" if shown.shape != np.shape(image) else " with other pixels"),
                               f"Show {', '.join(names)} from left to right.")
