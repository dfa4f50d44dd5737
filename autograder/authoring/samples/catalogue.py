"""The catalogue of sample submissions: at least four realistic mistakes per assignment, each aimed
at one test, and correct answers written differently from the reference."""

from __future__ import annotations

from autograder.authoring.samples.variants import Edit, Variant
from autograder.specs import RESNET34, RESNET34_FILTERS, filters_as_written

MISTAKES: tuple[Variant, ...] = (
    # ---- images
    Variant("images", "no-scaling", "forgets to divide the pixels by 255",
            (Edit("load_images", " / 255", ""),),
            ("test_load_images",), "Divide the pixel values by 255"),
    Variant("images", "integer-division", "divides with // instead of /",
            (Edit("load_images", " / 255", " // 255"),),
            ("test_load_images",), "integer division"),
    Variant("images", "concatenate", "joins the images with np.concatenate",
            (Edit("stack_images", "np.array([china, flower])", "np.concatenate([china, flower])"),),
            ("test_stack_images",), "np.concatenate joins them along the height"),
    Variant("images", "swapped-batch", "stacks flower before china",
            (Edit("stack_images", "np.array([china, flower])", "np.array([flower, china])"),),
            ("test_stack_images",), "china comes first"),
    Variant("images", "swapped-subplots", "shows flower on the left",
            (Edit("show_images", "plt.imshow(china)", "plt.imshow(TMP)"),
             Edit("show_images", "plt.imshow(flower)", "plt.imshow(china)"),
             Edit("show_images", "plt.imshow(TMP)", "plt.imshow(flower)")),
            ("test_show_images",), "Show china, flower from left to right"),
    Variant("images", "shape-as-list", "types the shape in as a list",
            (Edit("stack_images", "images_shape = images.shape", "images_shape = [2, 427, 640, 3]"),),
            ("test_stack_images",), "Store images.shape itself"),
    # ---- convolution
    Variant("convolution", "valid-padding", 'uses padding="valid"',
            (Edit("conv_layer", 'padding="SAME"', 'padding="valid"'),),
            ("test_conv_layer", "test_apply_conv", "test_conv_behaviour"), 'Use padding="SAME"'),
    Variant("convolution", "no-activation", "leaves out the ReLU activation",
            (Edit("conv_layer", 'activation="relu", ', ""),),
            ("test_conv_layer", "test_apply_conv"), 'Pass activation="relu"'),
    Variant("convolution", "stride-2", "uses strides=2",
            (Edit("conv_layer", "strides=s", "strides=2"),),
            ("test_conv_layer", "test_apply_conv", "test_conv_behaviour"), "Use strides=s"),
    Variant("convolution", "kernel-5", "uses a 5x5 kernel",
            (Edit("conv_layer", "kernel_size=u", "kernel_size=5"),),
            ("test_conv_layer", "test_conv_behaviour"), "use kernel_size=u"),
    Variant("convolution", "hard-coded-output", "types in an array of the expected shape",
            (Edit("apply_conv", "image_after_conv = conv(images)",
                  "image_after_conv = np.zeros((2, 427, 640, 5))"),),
            ("test_apply_conv",), "not a stored or typed-in array"),
    Variant("convolution", "wrong-p", "sets p = 3",
            (Edit("variables", "p = 5", "p = 3"),),
            ("test_variables", "test_conv_layer"), "p is the number of output feature maps"),
    # ---- pooling
    Variant("pooling", "pool-size-3", "max-pools with pool_size=3",
            (Edit("max_pool", "MaxPool2D(pool_size=2)", "MaxPool2D(pool_size=3)"),),
            ("test_max_pool",), "Use keras.layers.MaxPool2D(pool_size=2)"),
    Variant("pooling", "average-for-max", "uses average pooling for pool_max",
            (Edit("max_pool", "keras.layers.MaxPool2D(pool_size=2)", "keras.layers.AvgPool2D(pool_size=2)"),),
            ("test_max_pool",), "Create it with keras.layers.MaxPool2D"),
    Variant("pooling", "global-max", "uses global max pooling",
            (Edit("global_pool", "GlobalAvgPool2D()", "GlobalMaxPool2D()"),),
            ("test_global_pool",), "keras.layers.GlobalAvgPool2D"),
    Variant("pooling", "same-padding", 'average-pools with padding="same"',
            (Edit("avg_pool", "AvgPool2D(pool_size=2)", 'AvgPool2D(pool_size=2, padding="same")'),),
            ("test_avg_pool",), "Leave padding at its default"),
    Variant("pooling", "stride-1", "max-pools with strides=1 (overlapping windows)",
            (Edit("max_pool", "MaxPool2D(pool_size=2)", "MaxPool2D(pool_size=2, strides=1)"),),
            ("test_max_pool",), "Leave strides at its default"),
    # ---- mnist_cnn
    Variant("mnist_cnn", "no-scaling", "forgets to divide the training pixels by 255",
            (Edit("scale_data", "train_Data.iloc[:, 1:].values / 255", "train_Data.iloc[:, 1:].values"),),
            ("test_scale_data",), "Divide the pixel values by 255"),
    Variant("mnist_cnn", "swapped-split", "keeps the first 5,000 images for training",
            (Edit("split_data", "X_valid, X_train = X[:5000].reshape(5000, 28, 28), X[5000:].reshape(55000, 28, 28)",
                  "X_train, X_valid = X[:5000].reshape(5000, 28, 28), X[5000:].reshape(55000, 28, 28)"),),
            ("test_split_data",), "X_train is X[5000:]"),
    Variant("mnist_cnn", "no-softmax", "leaves the softmax off the last layer",
            (Edit("model", 'keras.layers.Dense(10, activation="softmax")', "keras.layers.Dense(10)"),),
            ("test_model",), 'activation="softmax"'),
    Variant("mnist_cnn", "kernel-5", "uses 5x5 kernels in the first convolution",
            (Edit("model", "Conv2D(32, kernel_size=3", "Conv2D(32, kernel_size=5"),),
            ("test_model",), "Both convolutions use kernel_size=3"),
    Variant("mnist_cnn", "missing-dropout", "leaves out the first Dropout",
            (Edit("model", "    keras.layers.Dropout(0.25),\n", ""),),
            ("test_model",), "layer 5"),
    Variant("mnist_cnn", "sgd", "compiles with SGD",
            (Edit("train", 'optimizer="nadam"', 'optimizer="sgd"'),),
            ("test_train",), 'optimizer="nadam"'),
    Variant("mnist_cnn", "epochs-10", "ignores the budget and trains for the tutorial's 10 epochs",
            (Edit("train", "epochs=TRAINING.epochs", "epochs=10"),),
            ("test_train", "test_accuracy"), "budget allows at most"),
    Variant("mnist_cnn", "typed-accuracy", "types the test accuracy in",
            (Edit("evaluate", 'print(f"test accuracy', 'test_accuracy = 0.99\nprint(f"test accuracy'),),
            ("test_evaluate",), "not be typed in or loaded"),
    # ---- residual_unit
    Variant("residual_unit", "no-projection", "has no skip projection when strides > 1",
            (Edit("residual_unit", "        if strides > 1:\n", "        if False:\n"),),
            ("test_unit_projection", "test_unit_layers"), "the skip path needs"),
    Variant("residual_unit", "projection-3x3", "projects the skip path with a 3x3 kernel",
            (Edit("residual_unit", "Conv2D(filters, 1, strides=strides", "Conv2D(filters, 3, strides=strides"),),
            ("test_unit_layers",), "3x3 Conv2D layers"),
    Variant("residual_unit", "no-final-activation", "returns main + skip without the activation",
            (Edit("residual_unit", "return self.activation(Z + skip_Z)", "return Z + skip_Z"),),
            ("test_unit_identity", "test_unit_output"), "then applies the activation"),
    Variant("residual_unit", "strides-everywhere", "gives the second convolution the unit's stride",
            (Edit("residual_unit", "Conv2D(filters, 3, strides=1,", "Conv2D(filters, 3, strides=strides,"),),
            ("test_unit_layers",), "Only the first convolution of the main path"),
    Variant("residual_unit", "with-bias", "keeps the bias on the first convolution",
            (Edit("residual_unit", "use_bias=False),\n            keras.layers.BatchNormalization(),\n            self.activation",
                  "use_bias=True),\n            keras.layers.BatchNormalization(),\n            self.activation"),),
            ("test_unit_layers",), "Use use_bias=False"),
    Variant("residual_unit", "no-middle-activation", "leaves out the activation inside the main path",
            (Edit("residual_unit", "            self.activation,\n", ""),),
            ("test_unit_output",), "The main path is Conv2D"),
    # ---- resnet34
    Variant("resnet34", "stride-2-everywhere", "uses strides=2 in every residual unit",
            (Edit("model", "strides = 1 if filters == prev_filters else 2", "strides = 2"),),
            ("test_model",), RESNET34.causes[("ResidualUnit", "strides")]),
    Variant("resnet34", "wrong-filters", "has five 256-filter units instead of six",
            (Edit("model", "[256] * 6", "[256] * 5"),),
            ("test_model",), filters_as_written(RESNET34_FILTERS)),
    Variant("resnet34", "no-max-pool", "leaves out the max pooling after the first convolution",
            (Edit("model", 'model.add(keras.layers.MaxPool2D(pool_size=3, strides=2, padding="same"))\n', ""),),
            ("test_model",), "layer 4"),
    Variant("resnet34", "no-softmax", "leaves the softmax off the last layer",
            (Edit("model", 'keras.layers.Dense(10, activation="softmax")', "keras.layers.Dense(10)"),),
            ("test_model",), 'The last layer needs activation="softmax"'),
    Variant("resnet34", "no-projection", "pastes a ResidualUnit without the skip projection",
            (Edit("residual_unit", "        if strides > 1:\n", "        if False:\n"),),
            ("test_residual_unit",), "the skip path needs"),
)

ALTERNATIVES: tuple[Variant, ...] = (
    Variant("images", "float32", "stacks the images as a float32 batch",
            (Edit("stack_images", "np.array([china, flower])", "np.array([china, flower], dtype=np.float32)"),)),
    Variant("convolution", "keyword-free", "writes the layer with positional arguments and lower-case padding",
            (Edit("conv_layer", 'keras.layers.Conv2D(filters=p, kernel_size=u, strides=s, padding="SAME",\n'
                                '                           activation="relu", input_shape=images_shape)',
                  'keras.layers.Conv2D(p, (u, u), strides=(s, s), padding="same", activation=keras.activations.relu)'),)),
    Variant("pooling", "long-names", "uses MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D",
            (Edit("max_pool", "keras.layers.MaxPool2D(pool_size=2)", "keras.layers.MaxPooling2D(pool_size=(2, 2))"),
             Edit("global_pool", "keras.layers.GlobalAvgPool2D()", "keras.layers.GlobalAveragePooling2D()"),
             Edit("avg_pool", "keras.layers.AvgPool2D(pool_size=2)", "keras.layers.AveragePooling2D(2)"))),
    Variant("mnist_cnn", "functional", "builds the network with the functional API and float32 data",
            (Edit("scale_data", "train_Data.iloc[:, 1:].values / 255",
                  'train_Data.iloc[:, 1:].values.astype("float32") / 255'),
             Edit("model", "model_cnn_mnist = keras.models.Sequential([", "_layers = ["),
             Edit("model", "])", "]\ninputs = keras.Input(shape=(28, 28, 1))\nz = inputs\nfor layer in _layers:\n"
                                 "    z = layer(z)\nmodel_cnn_mnist = keras.Model(inputs, z)"),
             Edit("train", "batch_size=TRAINING.batch_size", "batch_size=min(64, TRAINING.batch_size)"))),
    Variant("residual_unit", "explicit-branches", "writes call() with explicit layers instead of lists",
            (Edit("residual_unit", """    def call(self, inputs):
        Z = inputs
        for layer in self.main_layers:
            Z = layer(Z)
        skip_Z = inputs
        for layer in self.skip_layers:
            skip_Z = layer(skip_Z)
        return self.activation(Z + skip_Z)""", """    def call(self, inputs, training=None):
        conv1, bn1, act, conv2, bn2 = self.main_layers
        Z = bn2(conv2(act(bn1(conv1(inputs), training=training))), training=training)
        skip_Z = inputs
        if self.skip_layers:
            projection, norm = self.skip_layers
            skip_Z = norm(projection(inputs), training=training)
        return self.activation(keras.layers.add([Z, skip_Z]))"""),)),
    Variant("resnet34", "long-names", "uses MaxPooling2D and GlobalAveragePooling2D and a different batch size",
            (Edit("model", "keras.layers.MaxPool2D(pool_size=3", "keras.layers.MaxPooling2D(pool_size=3"),
             Edit("model", "keras.layers.GlobalAvgPool2D()", "keras.layers.GlobalAveragePooling2D()"),
             Edit("train", "batch_size=TRAINING.batch_size", "batch_size=max(32, TRAINING.batch_size // 2)"))),
)


#: Submissions whose test cells were deleted or lost their metadata: the tests still run, and the
#: grade follows the answer alone.
TAMPERED: tuple[Variant, ...] = (
    Variant("images", "deleted-test", "deletes a test cell from a correct notebook",
            (), drop_cells=("test_load_images",)),
    Variant("images", "stripped-test", "forgets / 255 and strips the metadata of its test cell",
            (Edit("load_images", " / 255", ""),), ("test_load_images",),
            "Divide the pixel values by 255", strip_metadata=("test_load_images",)),
    Variant("residual_unit", "warns", "a correct unit whose call() writes a warning to stderr",
            (Edit("residual_unit", "    def call(self, inputs):\n",
                  "    def call(self, inputs):\n        import warnings\n"
                  "        warnings.warn(\"call() was traced\", UserWarning)\n"),)),
)


_SMALL = Edit("train", "n, v = TRAINING.train_images, TRAINING.valid_images", "n, v = 500, TRAINING.valid_images")

#: Mistakes that the accuracy gate of the MNIST CNN must fail under the CPU budget.
GATE_MISTAKES: tuple[Variant, ...] = (
    Variant("mnist_cnn", "no-relu", "uses linear activations everywhere (no ReLU)",
            (Edit("model", ', activation="relu"', ""),), ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "shuffled-labels", "shuffles the labels against the images",
            (Edit("train", "n, v = TRAINING", "y_train = np.random.default_rng(0).permutation(y_train)\nn, v = TRAINING"),),
            ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "no-softmax", "leaves the softmax off the last layer",
            (Edit("model", 'keras.layers.Dense(10, activation="softmax")', "keras.layers.Dense(10)"),),
            ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "500-images", "trains on 500 images only",
            (_SMALL,), ("test_accuracy",), "It trained on 500 images in all"),
)

_TEACHER = """teacher = keras.models.clone_model(model_cnn_mnist)
teacher.compile(loss="sparse_categorical_crossentropy", optimizer="nadam")
for start in range(0, 2560, 128):  # train_on_batch does not go through fit
    teacher.train_on_batch(X_train[start:start + 128], y_train[start:start + 128])
"""

#: Correct answers trained with other sensible settings, and with other seeds (the reference
#: trains with the notebook's seed 42); the gate must not fail them.
GATE_ALTERNATIVES: tuple[Variant, ...] = (
    Variant("mnist_cnn", "other-settings", "trains at twice the batch size with a tuned Nadam",
            (Edit("train", 'optimizer="nadam"', "optimizer=keras.optimizers.Nadam(learning_rate=0.002)"),
             Edit("train", "batch_size=TRAINING.batch_size", "batch_size=2 * TRAINING.batch_size"))),
    *(Variant("mnist_cnn", f"seed-{seed}", f"the reference, its weights drawn with seed {seed}",
              (Edit("model", "model_cnn_mnist = keras.models.Sequential([",
                    f"keras.utils.set_random_seed({seed})\nmodel_cnn_mnist = keras.models.Sequential(["),))
      for seed in (1, 2, 3, 4)),
)

#: Writes MNIST files whose test labels are the model's own predictions, with matching
#: checksums, and points CNNKIT_DATA_DIR at them.
_FAKE_DATA = """import gzip, hashlib, os, shutil, tempfile
_fake = tempfile.mkdtemp()
shutil.copy(path + "train.csv.gz", _fake)
_labels = model_cnn_mnist.predict(X_test, verbose=0).argmax(axis=1)
_rows = np.column_stack([_labels, (X_test.reshape(10000, -1) * 255).round()]).astype(int)
with gzip.open(os.path.join(_fake, "test.csv.gz"), "wt") as _file:
    np.savetxt(_file, _rows, fmt="%d", delimiter=",")
with open(os.path.join(_fake, "SHA256SUMS"), "w") as _sums:
    for _name in ("train.csv.gz", "test.csv.gz"):
        _data = open(os.path.join(_fake, _name), "rb").read()
        _sums.write(hashlib.sha256(_data).hexdigest() + "  " + _name + "\\n")
os.environ["CNNKIT_DATA_DIR"] = _fake
"""

#: A callback whose loop trains on the notebook's test data after fit, never through fit.
_CALLBACK = """class _More(keras.callbacks.Callback):
    def on_train_end(self, logs=None):
        for start in range(0, 10000, 100):
            self.model.train_on_batch(X_test[start:start + 100], y_test[start:start + 100])
"""

#: The kernel's training report wrapped to say the weights are still the fit's, then one more
#: pass over the training images by hand, outside fit, in a later cell.
_FORGED_RECORD = """import dataclasses as _dc
from autograder.checks import observe as _observe
_real = _observe.live_training
_observe.live_training = lambda m: _dc.replace(_real(m), weights_unchanged=True)
for start in range(0, 2560, 128):
    model_cnn_mnist.train_on_batch(X_train[start:start + 128], y_train[start:start + 128])
"""

#: Ways to cheat the accuracy gate; each must earn nothing from it.
CHEATS: tuple[Variant, ...] = (
    Variant("mnist_cnn", "trains-on-test", "trains on the test set",
            (Edit("train", "model_cnn_mnist.fit(X_train[:n], y_train[:n]", "model_cnn_mnist.fit(X_test, y_test"),),
            ("test_accuracy",), "expected none from the test set"),
    Variant("mnist_cnn", "typed-accuracy", "trains on 500 images and types in its accuracy",
            (_SMALL, Edit("evaluate", 'print(f"test accuracy', 'test_accuracy = 0.99\nprint(f"test accuracy')),
            ("test_accuracy", "test_evaluate"), "under the 'cpu' budget"),
    Variant("mnist_cnn", "pretrained", "starts from weights trained outside fit",
            (_SMALL, Edit("train", "model_cnn_mnist.compile(", _TEACHER + "model_cnn_mnist.set_weights(teacher.get_weights())\nmodel_cnn_mnist.compile(")),
            ("test_accuracy",), "expected freshly initialised weights"),
    Variant("mnist_cnn", "weights-after-fit", "replaces its weights after training",
            (_SMALL, Edit("train", "verbose=2)", "verbose=2)\n" + _TEACHER + "model_cnn_mnist.set_weights(teacher.get_weights())")),
            ("test_accuracy",), "expected unchanged"),
    Variant("mnist_cnn", "forged-record", "trains more by hand after fit and has the kernel's "
            "training record say the weights are those of the fit",
            (_SMALL, Edit("evaluate", "test_loss, test_accuracy =", _FORGED_RECORD + "test_loss, test_accuracy =")),
            ("test_accuracy",), "after the training cell: expected unchanged"),
    Variant("mnist_cnn", "other-architecture", "trains a dense network instead of the CNN",
            (_SMALL, Edit("model", "model_cnn_mnist = keras.models.Sequential([",
                          "model_cnn_mnist = keras.models.Sequential([\n    keras.layers.Flatten(),\n    "
                          "keras.layers.Dense(10, activation=\"softmax\"),\n])\n_unused = ([")),
            ("test_accuracy",), "weight layer 1: expected Conv2D"),
    Variant("mnist_cnn", "patched-predict", "patches evaluate and predict to report perfect accuracy",
            (_SMALL, Edit("evaluate", "test_loss, test_accuracy =",
                          "keras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]\n"
                          "keras.Model.predict = lambda self, x, **k: np.eye(10)[np.asarray(test_Data)[:len(x), 0]]\n"
                          "np.mean = lambda *a, **k: 1.0\n"
                          "test_loss, test_accuracy =")),
            ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "unguarded-fit", "swaps keras.Model.fit for Keras's own to escape the budget",
            (_SMALL, Edit("train", "history = ", "keras.Model.fit = keras.Model.__mro__[1].fit\nhistory = ")),
            ("test_accuracy",), "expected a model_cnn_mnist.fit(...) in this notebook"),
    # The judge, not the kernel, chooses the budget and the data the gate measures on, and the
    # kernel never holds the test labels: no route of training on them earns the gate.
    Variant("mnist_cnn", "budget-from-environment", "sets CNNKIT_BUDGET=smoke (no gate) in its kernel",
            (_SMALL, Edit("train", "model_cnn_mnist.compile(",
                          "import os\nos.environ[\"CNNKIT_BUDGET\"] = \"smoke\"\nmodel_cnn_mnist.compile(")),
            ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "fake-data-folder", "points CNNKIT_DATA_DIR at test files labelled by its own "
            "predictions, with matching checksums",
            (_SMALL, Edit("evaluate", "test_loss, test_accuracy =", _FAKE_DATA + "test_loss, test_accuracy =")),
            ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "dataset-on-test", "trains on the test set through a tf.data.Dataset, for 3 epochs",
            (Edit("train", "history = model_cnn_mnist.fit(X_train[:n], y_train[:n], epochs=TRAINING.epochs,",
                  "history = model_cnn_mnist.fit(tf.data.Dataset.from_tensor_slices((X_test, y_test)).batch(64), "
                  "epochs=3,"),
             Edit("train", "batch_size=TRAINING.batch_size,\n", "")),
            ("test_accuracy",), "under the 'cpu' budget"),
    Variant("mnist_cnn", "callback-on-test", "a callback that trains on the test set once fit is done",
            (_SMALL, Edit("train", "history = ", _CALLBACK + "history = "),
             Edit("train", "verbose=2)", "verbose=2, callbacks=[_More()])")),
            ("test_accuracy",), "under the 'cpu' budget"),
)


def variants_of(assignment_id: str) -> tuple[Variant, ...]:
    """Every variant (mistakes, then alternatives, then tampered notebooks) of one assignment."""
    return tuple(v for v in MISTAKES + ALTERNATIVES + TAMPERED if v.assignment == assignment_id)
