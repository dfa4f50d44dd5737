"""The fit wrapper: budget limits, and the record the accuracy gate reads."""

import keras
import numpy as np
import pytest
from support.training import guarded

from autograder import training_guard
from autograder.data import load_mnist_test
from autograder.training_guard import BudgetExceeded


@pytest.fixture(autouse=True)
def guard():
    with guarded():
        yield


def tiny_model():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="nadam")
    return model


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1)).astype("float32"), rng.integers(0, 10, n)


def test_a_fit_within_the_budget_is_recorded():
    model = tiny_model()
    model.fit(*data(64), epochs=1, batch_size=32, verbose=0)
    record = training_guard.record_of(model)
    assert record.samples_seen == 64 and record.fits[0].fresh_start
    assert record.fits[0].test_overlap == 0 and record.fits[0].digest_after


def test_too_many_epochs_is_refused_with_the_limit_before_training():
    model = tiny_model()
    with pytest.raises(BudgetExceeded, match=r"^fit: expected at most 64 training images in all "
                                             r"\(epochs x images\) under the 'tiny' budget, got 640 "
                                             r"\(epochs=10 over 64 images\)\. the 'tiny' budget allows "
                                             r"at most 1 epoch\(s\) over 64 training images"):
        model.fit(*data(64), epochs=10, batch_size=32, verbose=0)
    assert not model.built or int(model.optimizer.iterations) == 0


def test_earlier_fits_count():
    model = tiny_model()
    model.fit(*data(48), epochs=1, batch_size=32, verbose=0)
    with pytest.raises(BudgetExceeded, match="got 96 \\(epochs=1 over 48 images plus earlier fits\\)"):
        model.fit(*data(48), epochs=1, batch_size=32, verbose=0)


def test_a_tiny_batch_size_is_refused_but_half_is_fine():
    model = tiny_model()
    with pytest.raises(BudgetExceeded, match="batch_size of at least 8 under the 'tiny' budget, got 4"):
        model.fit(*data(64), epochs=1, batch_size=4, verbose=0)
    model.fit(*data(64), epochs=1, batch_size=16, verbose=0)


def test_loaded_weights_are_not_a_fresh_start():
    model = tiny_model()
    model.build((None, 28, 28, 1))
    model.set_weights([w + 0.5 for w in model.get_weights()])
    model.fit(*data(64), epochs=1, batch_size=32, verbose=0)
    assert not training_guard.record_of(model).fits[0].fresh_start


def test_test_images_in_the_training_set_are_noticed():
    images, labels = load_mnist_test()
    model = tiny_model()
    model.fit(images[:64], labels[:64], epochs=1, batch_size=32, verbose=0)
    assert training_guard.record_of(model).fits[0].test_overlap == 1.0
    model2 = tiny_model()
    model2.fit(images[:64].astype("float64") * 255, labels[:64], epochs=1, batch_size=32, verbose=0)
    assert training_guard.record_of(model2).fits[0].test_overlap == 1.0
