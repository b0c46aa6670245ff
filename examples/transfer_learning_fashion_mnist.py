"""Transfer learning and fine-tuning with a MobileNetV2 base on Fashion-MNIST (the Keras guide's recipe).

1. Build ``MobileNetV2(include_top=False, input_shape=(32, 32, 3))`` as the base, freeze it (``trainable=False``)
   and call it with ``training=False`` so its BatchNormalization layers stay in inference mode (their moving
   statistics never change, even after unfreezing).
2. Put a new head on top (global average pooling, dropout, a 10-way dense layer) and train only the head.
3. Unfreeze the base and fine-tune the whole model with a low learning rate (Adam 1e-5).

The test accuracy is printed after each phase. Fashion-MNIST's 28x28 grayscale images are padded to 32x32 and
their channel repeated three times, then scaled to [-1, 1] (``mobilenet_v2.preprocess_input``).

With ``--weights PATH`` the base loads a MobileNetV2 no-top weights file (e.g. Keras's published
``mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5``); the default (``--weights none``) starts
from random weights, which still learns well above chance (10%) but far below what ImageNet features give.

Run (the dataset is read from ``$LAMINA_DATASETS_DIR/fashion_mnist/`` or downloaded)::

    LAMINA_BACKEND=jax python examples/transfer_learning_fashion_mnist.py --samples 10000 --epochs 3
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import lamina as keras  # noqa: E402
from lamina.applications import mobilenet_v2  # noqa: E402

NUM_CLASSES = 10
INPUT_SHAPE = (32, 32, 3)


def prepare_images(x):
    """uint8 ``(n, 28, 28)`` -> float32 ``(n, 32, 32, 3)`` in [-1, 1]: pad by 2 pixels, repeat the channel."""
    x = np.pad(np.asarray(x), ((0, 0), (2, 2), (2, 2)))
    x = np.repeat(x[..., None], 3, axis=-1).astype("float32")
    return mobilenet_v2.preprocess_input(x)


def load_data(samples=None, test_samples=None):
    """Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``, optionally the first ``samples`` training
    and ``test_samples`` test images, ready for the model."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    if samples:
        x_train, y_train = x_train[:samples], y_train[:samples]
    if test_samples:
        x_test, y_test = x_test[:test_samples], y_test[:test_samples]
    return (prepare_images(x_train), y_train.astype("int32")), (prepare_images(x_test), y_test.astype("int32"))


def calibrate_batch_norm(base, images):
    """Rescale a randomly initialised base so its activations keep their size: one scalar per BatchNormalization.

    A random MobileNetV2 whose BatchNormalization layers hold their initial statistics (mean 0, variance 1)
    shrinks its activations layer after layer, to ~1e-12 at the top: the features still tell the classes apart,
    but are too small for the new head to learn from. One pass over ``images`` in training mode with momentum 0
    measures each layer's per-channel batch mean and variance; each layer then gets ``moving_mean = 0`` and a
    single ``moving_variance`` = the mean over channels of the second moment (variance + mean ** 2), so it
    rescales without centring (centring every channel of a random network scrambles the features). Pretrained
    weights come with their own statistics and need none of this.
    """
    bn_layers = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in bn_layers]
    for layer in bn_layers:
        layer.momentum = 0.0
    try:
        base(images, training=True)
    finally:
        for layer, momentum in zip(bn_layers, momenta):
            layer.momentum = momentum
    for layer in bn_layers:
        mean = keras.ops.convert_to_numpy(layer.moving_mean.value)
        second_moment = keras.ops.convert_to_numpy(layer.moving_variance.value) + mean ** 2
        layer.moving_mean.assign(np.zeros_like(mean))
        layer.moving_variance.assign(np.full_like(second_moment, second_moment.mean()))


def build_model(weights=None, alpha=1.0, dropout=0.2, calibration_images=None):
    """Return ``(model, base)``: a frozen MobileNetV2 base (called with ``training=False``) and a new head.

    With ``weights=None`` and ``calibration_images``, the base's BatchNormalization statistics are first set from
    those images (see ``calibrate_batch_norm``).
    """
    base = keras.applications.MobileNetV2(include_top=False, weights=weights, input_shape=INPUT_SHAPE, alpha=alpha)
    if weights is None and calibration_images is not None:
        calibrate_batch_norm(base, calibration_images)
    base.trainable = False
    inputs = keras.Input(INPUT_SHAPE)
    x = base(inputs, training=False)  # BatchNormalization stays in inference mode, also when fine-tuning
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(NUM_CLASSES)(x)
    return keras.Model(inputs, outputs, name="transfer_mobilenet_v2"), base


def compile_model(model, learning_rate):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])


def snapshot(layer):
    """Copies of all of ``layer``'s variables (trainable and not), by path."""
    return {v.path: np.array(keras.ops.convert_to_numpy(v.value)) for v in layer.weights}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=None, help="training images to use (default: all 60000)")
    parser.add_argument("--test-samples", type=int, default=None, help="test images to use (default: all 10000)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of head training")
    parser.add_argument("--fine-tune-epochs", type=int, default=None, help="epochs of fine-tuning (default: --epochs)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="head-training learning rate")
    parser.add_argument("--fine-tune-learning-rate", type=float, default=1e-5)
    parser.add_argument("--weights", default="none", help="'none', 'imagenet' or the path of a no-top weights file")
    parser.add_argument("--alpha", type=float, default=1.0, help="MobileNetV2 width multiplier")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)
    if args.samples is not None and args.samples < 1:
        parser.error(f"--samples must be a positive number of images, but received {args.samples}.")
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, but received {args.epochs}.")
    return args


def main(argv=None):
    """Run both phases; return a dict of accuracies, histories and the base's variables at each stage."""
    args = parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(args.samples, args.test_samples)
    weights = None if args.weights.lower() == "none" else args.weights
    model, base = build_model(weights=weights, alpha=args.alpha, calibration_images=x_train[:512])
    fit = dict(batch_size=args.batch_size, verbose=args.verbose, validation_data=(x_test, y_test))
    result = {"chance": 1.0 / NUM_CLASSES, "base_variables": {"start": snapshot(base)}}
    print(f"{len(x_train)} training and {len(x_test)} test images; base: {base.name} "
          f"({base.count_params():,} parameters, weights={weights}), backend {keras.config.backend()}")

    compile_model(model, args.learning_rate)
    print(f"Phase 1: train the head; trainable parameters: "
          f"{sum(int(np.prod(v.shape)) for v in model.trainable_variables):,}")
    result["head_history"] = model.fit(x_train, y_train, epochs=args.epochs, **fit).history
    result["head_accuracy"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    result["base_variables"]["after_head"] = snapshot(base)
    print(f"Test accuracy after training the head: {result['head_accuracy']:.4f}")

    base.trainable = True
    # Recompile so that the change in trainability takes effect.
    compile_model(model, args.fine_tune_learning_rate)
    print(f"Phase 2: fine-tune everything; trainable parameters: "
          f"{sum(int(np.prod(v.shape)) for v in model.trainable_variables):,}")
    epochs = args.fine_tune_epochs if args.fine_tune_epochs is not None else args.epochs
    result["fine_tune_history"] = model.fit(x_train, y_train, epochs=epochs, **fit).history
    result["fine_tune_accuracy"] = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    result["base_variables"]["after_fine_tune"] = snapshot(base)
    print(f"Test accuracy after fine-tuning: {result['fine_tune_accuracy']:.4f}")
    result["model"], result["base"] = model, base
    return result


if __name__ == "__main__":
    main()
