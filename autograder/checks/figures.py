"""Checks on Matplotlib figures: which images a figure shows, and where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograder.checks import observe
from autograder.checks.failure import CheckFailure


def shows_images(name: str, figure: Any, images: Sequence[Any], names: Sequence[str]) -> None:
    """``figure`` has one subplot per image, left to right, each showing that image.

    ``images`` are the images themselves (the student's variables, or arrays); ``names`` their
    variable names, for the message.
    """
    found = observe.figure(name, figure)
    if not found.is_figure:
        raise CheckFailure(f"type of {name}", "a matplotlib Figure", found.type_name,
                           f"Create it with {name} = plt.figure() before the subplots.")
    if len(found.panels) != len(images):
        raise CheckFailure(f"subplots of {name} that show an image", len(images), len(found.panels),
                           f"Use plt.subplot(1, {len(images)}, i) then plt.imshow(...) for each "
                           "image, after creating the figure.")
    panels = sorted(found.panels, key=lambda panel: panel[0])
    for position, ((_, shown), image, image_name) in enumerate(zip(panels, images, names), start=1):
        wanted = observe.array(image_name, image)
        want = wanted.values if wanted.rows is None else None
        if want is None or shown.shape != want.shape or not np.allclose(shown, want, atol=1e-6):
            raise CheckFailure(f"subplot {position} of {name}", f"plt.imshow({image_name})",
                               f"an image of shape {shown.shape}" + (
                                   "" if want is None or shown.shape != want.shape
                                   else " with other pixels"),
                               f"Show {', '.join(names)} from left to right.")
