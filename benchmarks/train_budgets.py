"""Train the reference models under each grading budget, over several seeds, and print a table.

    python benchmarks/train_budgets.py --budgets cpu --seeds 5
    KERAS_BACKEND=jax python benchmarks/train_budgets.py --budgets gpu --seeds 5 --jobs 5

For each budget and model: training seconds (median, min, max), test accuracy as the accuracy
gate measures it (the trained weights in the assignment's architecture, in the budget's mode;
median, min, max), the model's own inference-mode test accuracy (what `evaluate` reports), the
largest test-minus-validation gap, and the gate's threshold. With --mistakes it also trains the MNIST CNN with the mistakes the gate must fail.
Runs use plain Keras, so any backend works (TensorFlow by default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MISTAKES = ("no-relu", "shuffled-labels", "no-softmax", "500-images")


def load_training_data():
    """The tutorial's training and validation arrays: (55000, 28, 28, 1), (5000, 28, 28, 1)."""
    import numpy as np
    import pandas as pd

    from autograder.data import mnist_file

    values = pd.read_csv(mnist_file("train.csv.gz"), header=None).to_numpy()
    X = (values[:, 1:] / 255).reshape(-1, 28, 28, 1).astype(np.float32)
    y = values[:, 0]
    return X[5000:], y[5000:], X[:5000], y[:5000]


def build(model_name: str, mistake: str | None):
    import keras

    from autograder.judge import reference

    model = reference.build(model_name)
    if mistake in ("no-relu", "no-softmax"):
        for layer in model.layers:
            if hasattr(layer, "activation") and (mistake == "no-relu") == (layer.activation.__name__ == "relu"):
                layer.activation = keras.activations.linear
    return reference.compile_for_mnist(model)


def one_run(budget_name: str, model_name: str, seed: int, mistake: str | None) -> dict:
    """Train once and measure as the gate does; returns the figures."""
    import keras
    import numpy as np

    from autograder import budget, data, weights
    from autograder.data import load_mnist_test
    from autograder.judge import measure as process

    training = budget.BUDGETS[budget_name].training(model_name)
    keras.utils.set_random_seed(seed)
    X_train, y_train, X_valid, y_valid = load_training_data()
    n, v = training.train_images, training.valid_images
    if mistake == "500-images":
        n = 500
    labels = y_train[:n].copy()
    if mistake == "shuffled-labels":
        np.random.default_rng(seed).shuffle(labels)
    model = build(model_name, mistake)
    start = time.perf_counter()
    model.fit(X_train[:n], labels, epochs=training.epochs, batch_size=training.batch_size,
              validation_data=(X_valid[:v], y_valid[:v]), verbose=0)
    seconds = time.perf_counter() - start
    test_images, test_labels = load_mnist_test()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "weights.npz"
        weights.save(model, path)
        measured = process.measure(model_name, path, training.accuracy_mode, data.find_mnist_dir())
    return {"budget": budget_name, "model": model_name, "seed": seed, "mistake": mistake or "",
            "seconds": seconds, "test": measured["test_accuracy"], "valid": measured["valid_accuracy"],
            "own_inference_test": process.accuracy(model, test_images, test_labels, "inference")}


def run_in_process(args: tuple) -> dict | None:
    """One run in its own Python process (so that runs can share a GPU side by side); ``None``
    (and the error on stderr) if it failed."""
    command = [sys.executable, __file__, "--one", json.dumps(args)]
    process = subprocess.run(command, capture_output=True, text=True)
    lines = process.stdout.strip().splitlines()
    if process.returncode != 0 or not lines:
        print(f"run {args} failed: {process.stderr.strip()[-2000:]}", file=sys.stderr, flush=True)
        return None
    return json.loads(lines[-1])


def summarise(rows: list[dict]) -> None:
    from autograder import budget

    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["budget"], row["model"], row["mistake"]), []).append(row)
    print(f"backend: {os.environ.get('KERAS_BACKEND', 'tensorflow')}")
    header = ("| budget | model | mistake | runs | seconds median (min-max) | gate accuracy median "
              "(min-max) | own evaluate accuracy median | max test-valid | threshold |")
    print(header)
    print("|" + "---|" * 9)
    for (budget_name, model, mistake), group in groups.items():
        seconds = [r["seconds"] for r in group]
        tests = [r["test"] for r in group]
        gap = max(r["test"] - r["valid"] for r in group)
        training = budget.BUDGETS[budget_name].training(model)
        threshold = "none" if training.min_test_accuracy is None else f"{training.min_test_accuracy:.4f}"
        mode = "" if training.accuracy_mode == "inference" else " (batch stats)"
        print(f"| {budget_name} | {model} | {mistake or '-'} | {len(group)} | "
              f"{statistics.median(seconds):.1f} ({min(seconds):.1f}-{max(seconds):.1f}) | "
              f"{statistics.median(tests):.4f} ({min(tests):.4f}-{max(tests):.4f}){mode} | "
              f"{statistics.median(r['own_inference_test'] for r in group):.4f} | {gap:+.4f} | {threshold} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", nargs="+", default=["cpu"])
    parser.add_argument("--models", nargs="+", default=["mnist_cnn", "resnet34"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1, help="Runs side by side, each in its own process.")
    parser.add_argument("--mistakes", action="store_true", help="Also train the CNN with each gate mistake.")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.one:
        print(json.dumps(one_run(*json.loads(args.one))))
        return 0
    runs = [(b, m, seed, None) for b in args.budgets for m in args.models for seed in range(args.seeds)]
    if args.mistakes:
        runs += [(b, "mnist_cnn", 0, mistake) for b in args.budgets for mistake in MISTAKES]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = []
        for row in pool.map(run_in_process, runs):
            if row is not None:
                rows.append(row)
                print(json.dumps(row), flush=True)
    summarise(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
