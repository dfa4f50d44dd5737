"""Time the judge's NumPy reference computations (autograder.checks.numeric) and print medians.

    python benchmarks/numeric_ops.py --repeats 7
    OPENBLAS_NUM_THREADS=1 python benchmarks/numeric_ops.py   # steadier on a busy machine

The weights are random, in the canonical order of autograder.weights; nothing imports TensorFlow.
Targets: ResNet-34 on 8 images and the MNIST CNN on 32 images well under 1 s each, conv2d_at at
512 positions of a (2, 427, 640, 3) input with a 7x7x3x5 kernel under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median_seconds(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """The median wall time and CPU time of ``repeats`` calls, after one warm-up call. On a shared
    machine the CPU time (all threads of this process) says what the work costs; the wall time
    also counts waiting for a core."""
    call()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def random_weights(layout, rng: np.random.Generator):
    """Random float32 weights of the given layout (variances positive)."""
    from autograder.weights import LeafWeights

    return [LeafWeights(leaf.kind, tuple(rng.uniform(0.5, 1.5, s).astype(np.float32)
                                         for s in leaf.shapes)) for leaf in layout]


def cases(rng: np.random.Generator) -> list[tuple[str, float, Callable[[], object]]]:
    """(name, target in seconds, call) for each timed operation."""
    from autograder.checks import numeric

    resnet = random_weights(numeric.resnet34_layout(), rng)
    cnn = random_weights(numeric.mnist_cnn_layout(), rng)
    digits8 = rng.random((8, 28, 28, 1), dtype=np.float32)
    digits32 = rng.random((32, 28, 28, 1), dtype=np.float32)
    photos = rng.random((2, 427, 640, 3), dtype=np.float32)
    kernel = rng.standard_normal((7, 7, 3, 5)).astype(np.float32)
    positions = np.stack([rng.integers(0, 2, 512), rng.integers(0, 427, 512),
                          rng.integers(0, 640, 512)], axis=1)
    return [
        ("resnet34_forward, 8 images 28x28", 1.0, lambda: numeric.resnet34_forward(digits8, resnet)),
        ("mnist_cnn_forward, 32 images 28x28", 1.0, lambda: numeric.mnist_cnn_forward(digits32, cnn)),
        ("conv2d_at, (2, 427, 640, 3) * 7x7x3x5, 512 positions", 0.05,
         lambda: numeric.conv2d_at(photos, kernel, positions)),
        ("conv2d, (2, 427, 640, 3) * 7x7x3x5, whole output (for scale)", None,
         lambda: numeric.conv2d(photos, kernel)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="Timed calls per operation.")
    args = parser.parse_args()
    start = time.perf_counter()
    import autograder.checks.numeric  # noqa: F401  (timed: the judge pays it once)
    print(f"import autograder.checks.numeric: {time.perf_counter() - start:.3f} s "
          f"(tensorflow imported: {'tensorflow' in sys.modules})")
    print(f"{'operation (median of ' + str(args.repeats) + ' runs)':<62} {'wall':>10} {'cpu':>10} "
          f"{'target':>8}")
    for name, target, call in cases(np.random.default_rng(0)):
        wall, cpu = median_seconds(call, args.repeats)
        verdict = "" if target is None else ("ok" if wall < target else "SLOW")
        shown = "-" if target is None else f"{target * 1000:.0f} ms"
        print(f"{name:<62} {wall * 1000:>7.1f} ms {cpu * 1000:>7.1f} ms {shown:>8} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
