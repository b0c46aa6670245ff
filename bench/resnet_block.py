"""A small ResNet with BatchNormalization (the first stage of the CIFAR ResNet-20), batch 32, random CIFAR data.

Model: Input 32x32x3 - Conv2D(16, 3, same) - BatchNormalization - ReLU, then two residual blocks
[Conv2D(16, 3, same) - BN - ReLU - Conv2D(16, 3, same) - BN, Add with the block's input, ReLU],
GlobalAveragePooling2D, Dense(10, softmax); Adam, sparse categorical crossentropy. The Conv2D layers have
no bias (BatchNormalization follows each), as in the ResNet papers; BatchNormalization uses Keras's defaults
(momentum 0.99, epsilon 1e-3), so the training step also updates the moving statistics.

Data: random images of shape (32, 32, 3) scaled to [0, 1], random labels 0-9 (NHWC). Each runner trains a
warm-up epoch of WARMUP_STEPS steps (compilation, caches), then a timed epoch of TIMED_STEPS steps, and
prints one JSON line: {"runner", "ms_per_step", "first_epoch_s", "final_loss", "steps"}.

Usage: python bench/resnet_block.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
(the backend of the lamina/keras runners must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
torch-loop is the same network written with torch.nn (BatchNorm2d with momentum 0.01 and eps 1e-3, the
torch spelling of Keras's momentum 0.99), trained the fast way: channels_last memory, foreach Adam, no
per-step host sync.
"""

import json
import os
import sys
import time

import numpy as np

from common import Timer, compile_options, torch_device

BATCH = 32
FILTERS = 16
WARMUP_STEPS = int(os.environ.get("RESNET_BENCH_WARMUP_STEPS", 10))
TIMED_STEPS = int(os.environ.get("RESNET_BENCH_STEPS", 40))


def data(n):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=(n, 32, 32, 3)).astype("float32") / 255.0
    y = rng.randint(0, 10, size=(n,)).astype("int64")
    return x, y


def keras_model(keras):
    """The network in the Keras API (the same code builds it with lamina and with Keras 3)."""
    L = keras.layers

    def conv_bn(t):
        return L.BatchNormalization()(L.Conv2D(FILTERS, 3, padding="same", use_bias=False)(t))

    inputs = keras.Input((32, 32, 3))
    x = L.ReLU()(conv_bn(inputs))
    for _ in range(2):
        h = conv_bn(L.ReLU()(conv_bn(x)))
        x = L.ReLU()(L.Add()([x, h]))
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def run_keras_like(keras):
    x, y = data(BATCH * TIMED_STEPS)
    model = keras_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_options())
    with Timer() as first:
        model.fit(x[:BATCH * WARMUP_STEPS], y[:BATCH * WARMUP_STEPS], batch_size=BATCH, epochs=1, verbose=0)
    with Timer() as t:
        hist = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return t.seconds, first.seconds, hist.history["loss"][-1]


def torch_model(torch):
    nn = torch.nn

    def conv_bn():
        return [nn.Conv2d(FILTERS, FILTERS, 3, padding=1, bias=False), nn.BatchNorm2d(FILTERS, eps=1e-3, momentum=0.01)]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*conv_bn(), nn.ReLU(), *conv_bn())

        def forward(self, x):
            return torch.relu(x + self.body(x))

    return nn.Sequential(
        nn.Conv2d(3, FILTERS, 3, padding=1, bias=False), nn.BatchNorm2d(FILTERS, eps=1e-3, momentum=0.01), nn.ReLU(),
        Block(), Block(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(FILTERS, 10))


def run_torch_loop():
    import torch

    x, y = data(BATCH * TIMED_STEPS)
    dev = torch_device()
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)  # NHWC, as the Keras-like runners get it
    model = torch_model(torch).to(dev, memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(n):
        model.train()
        perm = torch.randperm(n, device=dev)
        total, count = 0.0, 0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            xb = xt[idx].permute(0, 3, 1, 2)  # NCHW shape, channels_last memory: a view, no copy
            loss = loss_fn(model(xb), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
            count += len(idx)
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
