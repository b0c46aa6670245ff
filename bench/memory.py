"""Peak memory (resident set size) of training, lamina against Keras 3 on each engine.

For each model (bench/predict.py's MODELS: the tutorial MNIST MLP and CIFAR-10 CNN, batch 32, random data of
TRAIN_STEPS batches), a fresh process per runner and model measures with ``resource.getrusage`` (ru_maxrss):
  base_mb   the peak RSS after importing the framework and making the data;
  peak_mb   the peak RSS after ``fit`` (construction, compilation, TRAIN_STEPS steps) and ``evaluate``;
  train_mb  peak_mb - base_mb: what building and training the model added.
torch-loop and jax-loop are the hand-written loops of bench/mnist_mlp.py / bench/cifar10_cnn.py
(MLP only for jax-loop), as a floor.

Prints one JSON line: {"runner", "models": {name: {figure: value}}}.
Usage: python bench/memory.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
(the backend of the runner must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
"""

import json
import os
import resource
import sys
import time

import numpy as np

from first_step import run_self
from predict import MODELS, build, inputs

BATCH = 32
TRAIN_STEPS = int(os.environ.get("MEMORY_BENCH_STEPS", 50))
RUNNER_NAMES = ("lamina-torch", "lamina-jax", "keras-torch", "keras-jax", "torch-loop")


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def torch_loop(name, x, y):
    import torch

    if name == "mnist_mlp":
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 10))
        xt = torch.from_numpy(x)
    else:
        from cifar10_cnn import torch_model

        model = torch_model(torch, "tutorial")[0].to(memory_format=torch.channels_last)
        xt = torch.from_numpy(x).permute(0, 3, 1, 2)
    yt = torch.from_numpy(y)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7, foreach=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(0, len(x), BATCH):
        loss = loss_fn(model(xt[i:i + BATCH]), yt[i:i + BATCH])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        for i in range(0, len(x), BATCH):  # evaluate in batches, as fit/evaluate do
            float(loss_fn(model(xt[i:i + BATCH]), yt[i:i + BATCH]))


def measure(runner, name):
    if runner.startswith("lamina"):
        import lamina as keras
    elif runner.startswith("keras"):
        import keras
    else:
        import torch  # noqa: F401  (the loop's import counts in base_mb, as the frameworks' do)
    x = inputs(name, BATCH * TRAIN_STEPS)
    y = np.random.RandomState(1).randint(0, 10, size=(len(x),)).astype("int64")
    base = peak_mb()
    if runner == "torch-loop":
        torch_loop(name, x, y)
    else:
        model, opt = build(keras, name)
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        model.evaluate(x, y, batch_size=BATCH, verbose=0)
    peak = peak_mb()
    return {"base_mb": base, "peak_mb": peak, "train_mb": peak - base}


def main(runner):
    if runner not in RUNNER_NAMES:
        raise SystemExit(f"unknown runner {runner}: use one of {', '.join(RUNNER_NAMES)}")
    out = {name: run_self([__file__, "--one", runner, name]) for name in MODELS}
    print(json.dumps({"runner": runner, "models": out, "time": time.time()}))


if __name__ == "__main__":
    if sys.argv[1] == "--one":  # python memory.py --one RUNNER MODEL
        print(json.dumps(measure(*sys.argv[2:])))
    else:
        main(sys.argv[1])
