"""The course: its assignments, in the tutorial's order, and where its folders are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.errors import BadInput


@dataclass(frozen=True)
class Assignment:
    """One nbgrader assignment of the module."""

    id: str
    """The nbgrader assignment id, also the notebook's name (``<id>.ipynb``)."""
    title: str
    """The English title."""
    title_zh: str
    """The tutorial's own heading for this step."""

    @property
    def notebook(self) -> str:
        """The notebook's file name."""
        return f"{self.id}.ipynb"


ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment("images", "Loading and scaling two images", "加载并显示两张图像"),
    Assignment("convolution", "A convolutional layer", "卷积层"),
    Assignment("pooling", "Pooling layers", "池化层"),
    Assignment("mnist_cnn", "A CNN for handwritten digits (MNIST)",
               "搭建卷积神经网络进行手写数字识别"),
    Assignment("residual_unit", "A residual unit", "残差层"),
    Assignment("resnet34", "ResNet-34", "搭建完整的ResNet-34神经网络"),
)

ASSIGNMENT_IDS: tuple[str, ...] = tuple(a.id for a in ASSIGNMENTS)

#: The course id nbgrader records in the gradebook and the exchange.
COURSE_ID = "cnn-module"


class UnknownAssignment(BadInput):
    """An assignment id that the course does not have."""


def assignment(assignment_id: str) -> Assignment:
    """The :class:`Assignment` called ``assignment_id``."""
    for item in ASSIGNMENTS:
        if item.id == assignment_id:
            return item
    raise UnknownAssignment(f"assignment: expected one of {', '.join(ASSIGNMENT_IDS)}, "
                            f"got {assignment_id!r}.")


def repo_root() -> Path:
    """The course repository: the folder holding ``nbgrader_config.py`` and ``source/``."""
    return Path(__file__).resolve().parents[2]
