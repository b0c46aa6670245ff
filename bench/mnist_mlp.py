"""Tutorial MNIST MLP (Flatten-Dense(128, relu)-Dense(10, softmax), Adam, batch 32).

Each runner trains one warm-up epoch on 3,200 samples (compilation, caches), then one
timed epoch of 60,000 samples (1,875 steps), and prints one JSON line:
{"runner", "ms_per_step", "first_epoch_s", "final_loss"}.

Usage: python bench/mnist_mlp.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-loop, jax-loop
(the backend of the lamina/keras runners must match LAMINA_BACKEND/KERAS_BACKEND; run.py sets it).
"""

import json
import sys
import time

import numpy as np

from common import Timer, compile_options, mnist, torch_device

BATCH = 32


def run_keras_like(keras):
    x, y = mnist()
    x = x.reshape(-1, 28, 28)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"],
                  **compile_options())
    with Timer() as first:
        model.fit(x[:3200], y[:3200], batch_size=BATCH, epochs=1, verbose=0)
    with Timer() as t:
        hist = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return t.seconds, first.seconds, hist.history["loss"][-1]


def run_torch_loop():
    import torch

    x, y = mnist()
    dev = torch_device()
    xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10)).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(n):
        perm = torch.randperm(n, device=dev)
        total, count = 0.0, 0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = xt[idx], yt[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
            count += len(idx)
        return float(total / count)

    with Timer() as first:
        epoch(3200)
    with Timer() as t:
        loss = epoch(len(x))
    return t.seconds, first.seconds, loss


def run_jax_loop():
    import jax
    import jax.numpy as jnp

    x, y = mnist()
    xd, yd = jnp.asarray(x.reshape(len(x), -1)), jnp.asarray(y)
    key = jax.random.PRNGKey(0)
    k1, k2 = jax.random.split(key)

    def glorot(k, shape):
        lim = np.sqrt(6 / sum(shape))
        return jax.random.uniform(k, shape, minval=-lim, maxval=lim)

    params = {"w1": glorot(k1, (784, 128)), "b1": jnp.zeros(128), "w2": glorot(k2, (128, 10)), "b2": jnp.zeros(10)}
    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)

    def loss_fn(p, xb, yb):
        h = jax.nn.relu(xb @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))

    @jax.jit
    def step(p, m, v, t, xb, yb):
        loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        t = t + 1
        m = jax.tree.map(lambda a, b: 0.9 * a + 0.1 * b, m, g)
        v = jax.tree.map(lambda a, b: 0.999 * a + 0.001 * b * b, v, g)
        lr = 1e-3 * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        p = jax.tree.map(lambda a, b, c: a - lr * b / (jnp.sqrt(c) + 1e-7), p, m, v)
        return p, m, v, t, loss

    def epoch(p, m, v, t, n):
        perm = np.random.permutation(n)
        losses = []
        for i in range(0, n - n % BATCH, BATCH):
            idx = perm[i:i + BATCH]
            p, m, v, t, loss = step(p, m, v, t, xd[idx], yd[idx])
            losses.append(loss)
        return p, m, v, t, float(jnp.mean(jnp.stack(losses)))

    t0 = jnp.zeros((), jnp.float32)
    with Timer() as first:
        params, m, v, t0, _ = epoch(params, m, v, t0, 3200)
    with Timer() as t:
        params, m, v, t0, loss = epoch(params, m, v, t0, len(x))
    return t.seconds, first.seconds, loss


def main(runner):
    steps = int(np.ceil(60000 / BATCH))
    if runner.startswith("lamina"):
        import lamina

        seconds, first, loss = run_keras_like(lamina)
    elif runner.startswith("keras"):
        import keras

        seconds, first, loss = run_keras_like(keras)
    elif runner == "torch-loop":
        seconds, first, loss = run_torch_loop()
    elif runner == "jax-loop":
        seconds, first, loss = run_jax_loop()
    else:
        raise SystemExit(f"unknown runner {runner}")
    print(json.dumps({"runner": runner, "ms_per_step": 1000 * seconds / steps,
                      "first_epoch_s": first, "final_loss": loss, "time": time.time()}))


if __name__ == "__main__":
    main(sys.argv[1])
