"""What grading needs from a trained model's weights, computed in one pass: the gate's measuring
process (TensorFlow, a fresh process) against the judge's NumPy forward passes
(autograder.checks.numeric), side by side; and how close a notebook's own ``evaluate`` comes to
the judge's figure (the tolerance of ``checks.reported_accuracy``).

    python benchmarks/gate_pass.py --repeats 3
    python benchmarks/gate_pass.py --models mnist_cnn --numpy-images 500

For each model it trains the reference briefly (``--train-images`` images, one epoch, the cpu
budget's batch size), then alternates, ``--repeats`` times:

* the gate's process, ``autograder.judge.gate.measure`` (python -I, TensorFlow imported
  afresh, the weights in the reference architecture, the 10,000 test and 5,000 validation images
  once each, twice where the budget measures with batch statistics);
* the judge's NumPy forward pass, in this process, on ``--numpy-images`` test images, scaled to
  the 15,000 images of one pass (its cost is linear in the images: fixed batches);
* what the kernel did before for the check of the reported accuracy: ``model.predict`` over the
  10,000 test images in a warm TensorFlow process (``observe.mnist_predictions``).

It prints the medians, then the agreement of ``evaluate`` with the judge's classes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Images one pass of the judge covers: the test set and the validation set.
PASS_IMAGES = 15_000


def train(model_kind: str, images: int):
    """The reference ``model_kind`` trained for one epoch on ``images`` training images."""
    import keras

    from autograder import budget, data
    from autograder.judge import reference

    keras.utils.set_random_seed(42)
    table = data.read_table(data.find_mnist_dir() / "train.csv.gz")
    x, y = table[5000:5000 + images, 1:].reshape(-1, 28, 28, 1) / 255, table[5000:5000 + images, 0]
    model = reference.compile_for_mnist(reference.build(model_kind))
    model.fit(x, y, epochs=1, batch_size=budget.BUDGETS["cpu"].training(model_kind).batch_size,
              verbose=0)
    return model


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def side_by_side(model_kind: str, model, repeats: int, numpy_images: int) -> dict[str, list[float]]:
    """Seconds of each way, alternating, ``repeats`` times."""
    from autograder import budget, data, weights
    from autograder.checks import numeric
    from autograder.judge import gate

    truth = data.find_mnist_dir()
    mode = budget.BUDGETS["cpu"].training(model_kind).accuracy_mode
    leaves = weights.extract(model)
    test = (data.read_table(truth / "test.csv.gz")[:, 1:].reshape(-1, 28, 28, 1) / 255).astype(np.float32)
    forward = {"mnist_cnn": numeric.mnist_cnn_forward, "resnet34": numeric.resnet34_forward}[model_kind]
    seconds: dict[str, list[float]] = {"gate process (TensorFlow), one pass": [],
                                       "judge, NumPy, one pass (scaled)": [],
                                       "before: kernel's second pass, predict": []}
    for _ in range(repeats):
        seconds["gate process (TensorFlow), one pass"].append(
            timed(lambda: gate.measure(leaves, model_kind, mode, truth)))
        part = timed(lambda: [forward(test[i:i + 100], leaves) for i in range(0, numpy_images, 100)])
        seconds["judge, NumPy, one pass (scaled)"].append(part * PASS_IMAGES / numpy_images)
        seconds["before: kernel's second pass, predict"].append(
            timed(lambda: model.predict(test, batch_size=1000, verbose=0)))
    if mode != "inference":  # numeric has no batch statistics: half of what this budget needs
        seconds["judge, NumPy, inference half only (scaled)"] = seconds.pop("judge, NumPy, one pass (scaled)")
    return seconds


def agreement(model_kind: str, model) -> dict[str, float]:
    """``evaluate`` in this process against the judge's one pass, on the same weights."""
    from autograder import budget, data, weights
    from autograder.judge import gate

    truth = data.find_mnist_dir()
    table = data.read_table(truth / "test.csv.gz")
    x, y = table[:, 1:].reshape(-1, 28, 28, 1) / 255, table[:, 0]  # as the notebook prepares them
    training = budget.BUDGETS["cpu"].training(model_kind)
    found = gate.measure(weights.extract(model), model_kind, training.accuracy_mode, truth)
    evaluated = float(model.evaluate(x, y, batch_size=training.evaluate_batch_size, verbose=0)[1])
    own = np.asarray(model.predict(x, batch_size=training.evaluate_batch_size, verbose=0)).argmax(-1)
    return {"evaluate": evaluated, "judge": found.accuracy_on(y),
            "images classified otherwise": float(np.sum(own != found.test_classes)),
            "validation (5,000)": found.valid_accuracy_of_first(5000)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["mnist_cnn", "resnet34"],
                        choices=["mnist_cnn", "resnet34"], help="The reference models to measure.")
    parser.add_argument("--repeats", type=int, default=3, help="Alternating runs of each way.")
    parser.add_argument("--train-images", type=int, default=10_000,
                        help="Training images of the one epoch each model trains first.")
    parser.add_argument("--numpy-images", type=int, default=1_000,
                        help="Test images the NumPy forward pass is timed on (scaled to 15,000).")
    args = parser.parse_args()
    for model_kind in args.models:
        model = train(model_kind, args.train_images)
        seconds = side_by_side(model_kind, model, args.repeats, args.numpy_images)
        print(f"\n{model_kind}: seconds, median (min-max) of {args.repeats}")
        for way, found in seconds.items():
            print(f"  {way:<44} {statistics.median(found):7.1f} ({min(found):.1f}-{max(found):.1f})")
        close = agreement(model_kind, model)
        print(f"  evaluate {close['evaluate']:.6f}, judge {close['judge']:.6f} "
              f"(difference {abs(close['evaluate'] - close['judge']):.2e}, "
              f"{close['images classified otherwise']:.0f} image(s) classified otherwise); "
              f"validation {close['validation (5,000)']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
