"""Tutorial IMDB LSTM (Embedding(10000, 128) - LSTM(128) - Dense(1, sigmoid), maxlen 200, batch 32, Adam,
binary_crossentropy) on the real IMDB reviews (lamina's loader reading $LAMINA_DATASETS_DIR/imdb/imdb.npz,
10,000 words, pre-padded / pre-truncated to 200 ids like pad_sequences).

Each runner trains a warm-up of WARMUP steps (compilation, caches), then STEPS timed steps, and prints one JSON
line: {"runner", "ms_per_step", "first_epoch_s", "final_loss"} (first_epoch_s: the warm-up's seconds).
Give STEPS as a multiple of 16, so lamina-jax runs only the compiled 16-step block of the warm-up.

Usage: python bench/imdb_lstm.py RUNNER [STEPS]   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
(the backend of the lamina/keras runners must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
"""

import json
import sys
import time

import numpy as np

from common import Timer, compile_options, torch_device

BATCH, MAXLEN, WORDS, UNITS, EMBED = 32, 200, 10000, 128, 128
WARMUP = 16  # a full block of steps_per_execution="auto" (16 on JAX), so the timed steps never compile
STEPS = 64


def imdb(n):
    """The first ``n`` training reviews as int32 ``(n, MAXLEN)`` (zeros in front) and float32 labels."""
    from lamina.datasets import imdb as lamina_imdb

    (x_train, y_train), _ = lamina_imdb.load_data(num_words=WORDS)
    x = np.zeros((n, MAXLEN), "int32")
    for i, seq in enumerate(x_train[:n]):
        seq = list(seq)[-MAXLEN:]
        x[i, MAXLEN - len(seq):] = seq
    return x, y_train[:n].astype("float32")


def run_keras_like(keras, steps):
    x, y = imdb((WARMUP + steps) * BATCH)
    model = keras.Sequential([keras.Input((MAXLEN,), dtype="int32"), keras.layers.Embedding(WORDS, EMBED),
                              keras.layers.LSTM(UNITS), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy", metrics=["accuracy"],
                  **compile_options())
    w = WARMUP * BATCH
    with Timer() as first:
        model.fit(x[:w], y[:w], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    with Timer() as t:
        hist = model.fit(x[w:], y[w:], batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    return t.seconds, first.seconds, hist.history["loss"][-1]


def run_torch_loop(steps):
    import torch

    x, y = imdb((WARMUP + steps) * BATCH)
    dev = torch_device()
    xt, yt = torch.from_numpy(x).long().to(dev), torch.from_numpy(y)[:, None].to(dev)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(WORDS, EMBED)
            self.lstm = torch.nn.LSTM(EMBED, UNITS, batch_first=True)
            self.out = torch.nn.Linear(UNITS, 1)

        def forward(self, ids):
            _, (h, _) = self.lstm(self.embed(ids))
            return self.out(h[0])

    model = Net().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def train(lo, hi):
        total, count = 0.0, 0
        for i in range(lo, hi, BATCH):
            xb, yb = xt[i:i + BATCH], yt[i:i + BATCH]
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
            count += len(xb)
        return float(total / count)

    w = WARMUP * BATCH
    with Timer() as first:
        train(0, w)
    with Timer() as t:
        loss = train(w, len(x))
    return t.seconds, first.seconds, loss


def main(runner, steps=STEPS):
    if runner.startswith("lamina"):
        import lamina

        seconds, first, loss = run_keras_like(lamina, steps)
    elif runner.startswith("keras"):
        import keras

        seconds, first, loss = run_keras_like(keras, steps)
    elif runner == "torch-loop":
        seconds, first, loss = run_torch_loop(steps)
    else:
        raise SystemExit(f"unknown runner {runner}")
    print(json.dumps({"runner": runner, "ms_per_step": 1000 * seconds / steps, "steps": steps,
                      "first_epoch_s": first, "final_loss": loss, "time": time.time()}))


if __name__ == "__main__":
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
