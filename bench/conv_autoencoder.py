"""A convolutional autoencoder on MNIST (the Keras tutorial's shape), batch 32: Conv2DTranspose layers.

Model: Input 28x28x1 - Conv2D(32, 3, strides 2, same, relu) - Conv2D(64, 3, strides 2, same, relu) -
Conv2DTranspose(64, 3, strides 2, same, relu) - Conv2DTranspose(32, 3, strides 2, same, relu) -
Conv2D(1, 3, same, sigmoid); Adam, binary crossentropy against the input. Its transposed convolutions are what
this benchmark measures (their kernel gradients are XLA:CPU's slowest convolutions).

Data: the first BATCH * TIMED_STEPS MNIST training images scaled to [0, 1] (../shared/data, or
LAMINA_DATASETS_DIR). Each runner trains a warm-up epoch of WARMUP_STEPS steps (compilation, caches), then a
timed epoch of TIMED_STEPS steps, and prints one JSON line: {"runner", "ms_per_step", "first_epoch_s",
"final_loss", "steps"}.

Usage: python bench/conv_autoencoder.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
torch-loop is the same network written with torch.nn (ConvTranspose2d with padding 1 and output_padding 1,
Keras's "same" for a stride-2 3x3 layer; channels_last memory, foreach Adam).
"""

import json
import os
import sys
import time

import numpy as np

from common import Timer, compile_options, mnist, torch_device

BATCH = 32
WARMUP_STEPS = int(os.environ.get("AUTOENCODER_BENCH_WARMUP_STEPS", 10))
TIMED_STEPS = int(os.environ.get("AUTOENCODER_BENCH_STEPS", 60))


def data(n):
    x, _ = mnist(n)
    return x.reshape(n, 28, 28, 1).astype("float32")


def keras_model(keras):
    """The network in the Keras API (the same code builds it with lamina and with Keras 3)."""
    L = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"),
        L.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
        L.Conv2D(1, 3, padding="same", activation="sigmoid"),
    ])


def run_keras_like(keras):
    x = data(BATCH * TIMED_STEPS)
    model = keras_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy", **compile_options())
    with Timer() as first:
        model.fit(x[:BATCH * WARMUP_STEPS], x[:BATCH * WARMUP_STEPS], batch_size=BATCH, epochs=1, verbose=0)
    with Timer() as t:
        hist = model.fit(x, x, batch_size=BATCH, epochs=1, verbose=0)
    return t.seconds, first.seconds, hist.history["loss"][-1]


def torch_model(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, 2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(64, 64, 3, 2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 3, 2, padding=1, output_padding=1), nn.ReLU(),
        nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid())


def run_torch_loop():
    import torch

    x = data(BATCH * TIMED_STEPS)
    dev = torch_device()
    xt = torch.from_numpy(x).to(dev)  # NHWC, as the Keras-like runners get it
    model = torch_model(torch).to(dev, memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    loss_fn = torch.nn.BCELoss()

    def epoch(n):
        model.train()
        perm = torch.randperm(n, device=dev)
        total, count = 0.0, 0
        for i in range(0, n, BATCH):
            xb = xt[perm[i:i + BATCH]].permute(0, 3, 1, 2)  # NCHW shape, channels_last memory: a view
            loss = loss_fn(model(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
            count += len(xb)
        return float(total / count)

    with Timer() as first:
        epoch(BATCH * WARMUP_STEPS)
    with Timer() as t:
        loss = epoch(len(x))
    return t.seconds, first.seconds, loss


def main(runner):
    if runner.startswith("lamina"):
        import lamina

        seconds, first, loss = run_keras_like(lamina)
    elif runner.startswith("keras"):
        import keras

        seconds, first, loss = run_keras_like(keras)
    elif runner == "torch-loop":
        seconds, first, loss = run_torch_loop()
    else:
        raise SystemExit(f"unknown runner {runner}")
    print(json.dumps({"runner": runner, "ms_per_step": 1000 * seconds / TIMED_STEPS,
                      "first_epoch_s": first, "final_loss": loss, "steps": TIMED_STEPS, "time": time.time()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
