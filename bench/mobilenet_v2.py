"""MobileNetV2 (keras.applications, alpha 0.35, 64x64 inputs, 10 classes, no pretrained weights), batch 32.

The model is built by each library's own ``applications.MobileNetV2`` (the same code for lamina and Keras 3):
a strided 3x3 stem, 17 inverted-residual blocks (1x1 expansion - 3x3 depthwise - 1x1 projection, each with
BatchNormalization and ReLU6), a 1x1 convolution to 1280 channels, global average pooling and a softmax
Dense; Adam, sparse categorical crossentropy. Its depthwise and 1x1 convolutions are what this benchmark
measures: the ResNet and CIFAR benchmarks have neither.

Data: random images of shape (64, 64, 3) scaled to [0, 1], random labels 0-9 (NHWC). Each runner trains a
warm-up epoch of WARMUP_STEPS steps (compilation, caches), then a timed epoch of TIMED_STEPS steps, and prints
one JSON line: {"runner", "ms_per_step", "first_epoch_s", "final_loss", "steps"}.

Usage: python bench/mobilenet_v2.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
torch-loop is the same network written with torch.nn (channels_last memory, foreach Adam, BatchNorm2d with
Keras's momentum 0.999 / eps 1e-3, the stride-2 depthwise layers padded (0, 1) as Keras pads them).
"""

import json
import os
import sys
import time

import numpy as np

from common import Timer, compile_options, torch_device

BATCH = 32
SIZE = 64
ALPHA = 0.35
WARMUP_STEPS = int(os.environ.get("MOBILENET_BENCH_WARMUP_STEPS", 5))
TIMED_STEPS = int(os.environ.get("MOBILENET_BENCH_STEPS", 30))
# (expansion, channels, repeats, first stride) of MobileNetV2's inverted-residual stages.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
          (6, 320, 1, 1))


def data(n):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, size=(n, SIZE, SIZE, 3)).astype("float32") / 255.0
    y = rng.randint(0, 10, size=(n,)).astype("int64")
    return x, y


def run_keras_like(keras):
    x, y = data(BATCH * TIMED_STEPS)
    model = keras.applications.MobileNetV2(input_shape=(SIZE, SIZE, 3), alpha=ALPHA, weights=None, classes=10)
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  **compile_options())
    with Timer() as first:
        model.fit(x[:BATCH * WARMUP_STEPS], y[:BATCH * WARMUP_STEPS], batch_size=BATCH, epochs=1, verbose=0)
    with Timer() as t:
        hist = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return t.seconds, first.seconds, hist.history["loss"][-1]


def _divisible(v, divisor=8):
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def torch_model(torch):
    nn = torch.nn

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.001)

    def depthwise(c, stride):
        layers = [nn.ZeroPad2d((0, 1, 0, 1))] if stride == 2 else []
        return layers + [nn.Conv2d(c, c, 3, stride, padding=0 if stride == 2 else 1, groups=c, bias=False), bn(c),
                         nn.ReLU6()]

    class Block(nn.Module):
        def __init__(self, cin, cout, expansion, stride):
            super().__init__()
            mid = cin * expansion
            expand = [nn.Conv2d(cin, mid, 1, bias=False), bn(mid), nn.ReLU6()] if expansion != 1 else []
            self.body = nn.Sequential(*expand, *depthwise(mid, stride), nn.Conv2d(mid, cout, 1, bias=False), bn(cout))
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.body(x) if self.residual else self.body(x)

    first = _divisible(32 * ALPHA)
    layers = [nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, first, 3, 2, bias=False), bn(first), nn.ReLU6()]
    cin = first
    for expansion, c, repeats, stride in STAGES:
        cout = _divisible(c * ALPHA)
        for i in range(repeats):
            layers.append(Block(cin, cout, expansion, stride if i == 0 else 1))
            cin = cout
    layers += [nn.Conv2d(cin, 1280, 1, bias=False), bn(1280), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(1280, 10)]
    return nn.Sequential(*layers)


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
