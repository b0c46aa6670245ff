"""A small Transformer encoder block for text classification on the real IMDB reviews (10,000 words,
sequences of 200 ids, batch 32, Adam, binary_crossentropy):

Embedding(10000, 32) -> x + MultiHeadAttention(num_heads=2, key_dim=32)(x, x) -> LayerNormalization
-> x + Dense(32)(Dense(64, relu)(x)) -> LayerNormalization -> GlobalAveragePooling1D -> Dense(1, sigmoid).

Each runner trains a warm-up of WARMUP steps (compilation, caches), then STEPS timed steps, and prints one JSON
line: {"runner", "ms_per_step", "first_epoch_s", "final_loss"} (first_epoch_s: the warm-up's seconds).
Give STEPS as a multiple of 16, so lamina-jax runs only the compiled 16-step block of the warm-up.

Usage: python bench/transformer_block.py RUNNER [STEPS]   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop
(torch-loop: the same block written with torch.nn layers and F.scaled_dot_product_attention).
"""

import json
import sys
import time

from common import Timer, compile_options, torch_device
from imdb_lstm import BATCH, MAXLEN, WORDS, imdb

EMBED, HEADS, KEY_DIM, FF = 32, 2, 32, 64
WARMUP = 16  # a full block of steps_per_execution="auto" (16 on JAX), so the timed steps never compile
STEPS = 96


def build_keras_like(keras):
    L = keras.layers
    inp = keras.Input((MAXLEN,), dtype="int32")
    x = L.Embedding(WORDS, EMBED)(inp)
    a = L.MultiHeadAttention(num_heads=HEADS, key_dim=KEY_DIM)(x, x)
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, a]))
    f = L.Dense(EMBED)(L.Dense(FF, activation="relu")(x))
    x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, f]))
    x = L.GlobalAveragePooling1D()(x)
    out = L.Dense(1, activation="sigmoid")(x)
    return keras.Model(inp, out)


def run_keras_like(keras, steps):
    x, y = imdb((WARMUP + steps) * BATCH)
    model = build_keras_like(keras)
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
    import torch.nn.functional as F

    x, y = imdb((WARMUP + steps) * BATCH)
    dev = torch_device()
    xt, yt = torch.from_numpy(x).long().to(dev), torch.from_numpy(y)[:, None].to(dev)

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(WORDS, EMBED)
            self.q = torch.nn.Linear(EMBED, HEADS * KEY_DIM)
            self.k = torch.nn.Linear(EMBED, HEADS * KEY_DIM)
            self.v = torch.nn.Linear(EMBED, HEADS * KEY_DIM)
            self.o = torch.nn.Linear(HEADS * KEY_DIM, EMBED)
            self.ln1 = torch.nn.LayerNorm(EMBED, eps=1e-6)
            self.ff1 = torch.nn.Linear(EMBED, FF)
            self.ff2 = torch.nn.Linear(FF, EMBED)
            self.ln2 = torch.nn.LayerNorm(EMBED, eps=1e-6)
            self.out = torch.nn.Linear(EMBED, 1)

        def heads(self, t):
            return t.view(t.shape[0], t.shape[1], HEADS, KEY_DIM).transpose(1, 2)

        def forward(self, ids):
            x = self.embed(ids)
            a = F.scaled_dot_product_attention(self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x)))
            a = self.o(a.transpose(1, 2).reshape(x.shape[0], x.shape[1], HEADS * KEY_DIM))
            x = self.ln1(x + a)
            x = self.ln2(x + self.ff2(F.relu(self.ff1(x))))
            return self.out(x.mean(dim=1))

    model = Block().to(dev)
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
