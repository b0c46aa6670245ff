"""The tutorial CIFAR-10 CNN (../shared/examples/cifar10_cnn.py), batch 32, on random CIFAR-shaped data.

Model "tutorial" (the example program, the default): Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu)
- MaxPooling2D(2) - Flatten - Dense(10, softmax), Adam. Model "classic" (Keras's old examples/cifar10_cnn.py):
Conv2D(32, 3, same) - Conv2D(32, 3) - MaxPool - Dropout(0.25) - Conv2D(64, 3, same) - Conv2D(64, 3) - MaxPool -
Dropout(0.25) - Flatten - Dense(512) - Dropout(0.5) - Dense(10, softmax), RMSprop(1e-4).

Data: 3,200 random images of shape (32, 32, 3), uint8 values scaled to [0, 1], random labels 0-9 (NHWC, as
``cifar10.load_data`` gives). Each runner trains a warm-up epoch of WARMUP_STEPS steps (compilation, caches),
then a timed epoch of TIMED_STEPS steps, and prints one JSON line:
{"runner", "model", "ms_per_step", "first_epoch_s", "final_loss", "steps"}.

Usage: python bench/cifar10_cnn.py RUNNER [tutorial|classic]   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
(the backend of the lamina/keras runners must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
torch-loop is a hand-written torch.nn loop done the fast way: model and input in channels_last memory format,
foreach Adam/RMSprop, no per-step host sync.
"""

import json
import os
import sys
import time

import numpy as np

from common import Timer, compile_options, torch_device

BATCH = 32
WARMUP_STEPS = int(os.environ.get("CIFAR_BENCH_WARMUP_STEPS", 20))
TIMED_STEPS = int(os.environ.get("CIFAR_BENCH_STEPS", 100))


def data(n):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=(n, 32, 32, 3)).astype("float32") / 255.0
    y = rng.randint(0, 10, size=(n,)).astype("int64")
    return x, y


def keras_model(keras, which):
    L = keras.layers
    if which == "tutorial":
        model = keras.Sequential([
            keras.Input((32, 32, 3)),
            L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
            L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
            L.Flatten(), L.Dense(10, activation="softmax")])
        return model, keras.optimizers.Adam()
    model = keras.Sequential([
        keras.Input((32, 32, 3)),
        L.Conv2D(32, (3, 3), padding="same", activation="relu"), L.Conv2D(32, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)), L.Dropout(0.25),
        L.Conv2D(64, (3, 3), padding="same", activation="relu"), L.Conv2D(64, (3, 3), activation="relu"),
        L.MaxPooling2D((2, 2)), L.Dropout(0.25),
        L.Flatten(), L.Dense(512, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")])
    return model, keras.optimizers.RMSprop(learning_rate=1e-4)


def run_keras_like(keras, which):
    x, y = data(BATCH * TIMED_STEPS)
    model, opt = keras_model(keras, which)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_options())
    with Timer() as first:
        model.fit(x[:BATCH * WARMUP_STEPS], y[:BATCH * WARMUP_STEPS], batch_size=BATCH, epochs=1, verbose=0)
    with Timer() as t:
        hist = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return t.seconds, first.seconds, hist.history["loss"][-1]


def torch_model(torch, which):
    nn = torch.nn

    class NHWCFlatten(nn.Module):  # flatten in Keras's (H, W, C) order: a view of channels_last memory
        def forward(self, x):
            return x.permute(0, 2, 3, 1).flatten(1)

    if which == "tutorial":
        model = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            NHWCFlatten(), nn.Linear(6 * 6 * 64, 10))
        return model, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7, foreach=True)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        NHWCFlatten(), nn.Linear(6 * 6 * 64, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10))
    return model, lambda p: torch.optim.RMSprop(p, lr=1e-4, alpha=0.9, eps=1e-7, foreach=True)


def run_torch_loop(which):
    import torch

    x, y = data(BATCH * TIMED_STEPS)
    dev = torch_device()
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)  # NHWC, as the Keras-like runners get it
    model, make_opt = torch_model(torch, which)
    model = model.to(dev, memory_format=torch.channels_last)
    opt = make_opt(model.parameters())
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


def main(runner, which="tutorial"):
    if which not in ("tutorial", "classic"):
        raise SystemExit(f"unknown model {which!r}: use tutorial or classic")
    if runner.startswith("lamina"):
        import lamina

        seconds, first, loss = run_keras_like(lamina, which)
    elif runner.startswith("keras"):
        import keras

        seconds, first, loss = run_keras_like(keras, which)
    elif runner == "torch-loop":
        seconds, first, loss = run_torch_loop(which)
    else:
        raise SystemExit(f"unknown runner {runner}")
    print(json.dumps({"runner": runner, "model": which, "ms_per_step": 1000 * seconds / TIMED_STEPS,
                      "first_epoch_s": first, "final_loss": loss, "steps": TIMED_STEPS, "time": time.time()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
