"""Input pipelines: fit on a PyDataset and on a torch DataLoader vs fit on the same in-memory arrays.

The model is the tutorial MNIST MLP (Flatten-Dense(128, relu)-Dense(10, softmax), Adam, batch 32).
For each source, one warm-up fit of 100 steps (compilation, caches), then one timed epoch of
STEPS steps (default 1,875 = 60,000 samples), no shuffling. Prints one JSON line:
{"runner", "steps", "ms_per_step_arrays", "ms_per_step_pydataset", "ms_per_step_dataloader",
 "final_loss_arrays", "final_loss_pydataset", "final_loss_dataloader"}.

The PyDataset slices the arrays (the pipeline's own cost, no data work); the DataLoader is the
default one over a TensorDataset (per-sample indexing and collation, as users write it).

Usage: python bench/input_pipeline.py RUNNER [STEPS]   with RUNNER lamina-torch or lamina-jax
(LAMINA_BACKEND must match; run.py sets it).
"""

import json
import sys
import time

import numpy as np

from common import Timer, mnist

BATCH = 32
WARMUP_STEPS = 100


def make_model(lamina):
    lamina.utils.set_random_seed(0)
    model = lamina.Sequential([lamina.Input((28, 28)), lamina.layers.Flatten(),
                               lamina.layers.Dense(128, activation="relu"),
                               lamina.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=lamina.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def sources(lamina, x, y):
    import torch

    class Slices(lamina.utils.PyDataset):
        def __init__(self, n):
            super().__init__()
            self.n = n

        def __len__(self):
            return -(-self.n // BATCH)

        def __getitem__(self, i):
            return x[i * BATCH:min((i + 1) * BATCH, self.n)], y[i * BATCH:min((i + 1) * BATCH, self.n)]

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def loader(n):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xt[:n], yt[:n]), batch_size=BATCH)

    return {
        "arrays": lambda m, n: m.fit(x[:n], y[:n], batch_size=BATCH, epochs=1, shuffle=False, verbose=0),
        "pydataset": lambda m, n: m.fit(Slices(n), epochs=1, verbose=0),
        "dataloader": lambda m, n: m.fit(loader(n), epochs=1, verbose=0),
    }


def main(runner, steps):
    if not runner.startswith("lamina"):
        raise SystemExit(f"input_pipeline runs lamina-torch or lamina-jax only, not {runner}")
    import lamina

    x, y = mnist()
    x = x.reshape(-1, 28, 28)
    n = min(steps * BATCH, len(x))
    out = {"runner": runner, "steps": -(-n // BATCH)}
    for name, fit in sources(lamina, x, y).items():
        model = make_model(lamina)
        fit(model, WARMUP_STEPS * BATCH)
        with Timer() as t:
            hist = fit(model, n)
        out[f"ms_per_step_{name}"] = 1000 * t.seconds / out["steps"]
        out[f"final_loss_{name}"] = hist.history["loss"][-1]
    out["time"] = time.time()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else int(np.ceil(60000 / BATCH)))
