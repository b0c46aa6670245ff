"""Inference speed: ``predict`` on one sample and on 1,024 samples, against the engine's direct forward call.

Models: the tutorial MNIST MLP (Flatten - Dense(128, relu) - Dense(10, softmax), input 28x28) and the tutorial
CIFAR-10 CNN (bench/cifar10_cnn.py's "tutorial" model, input 32x32x3), random float32 inputs. Each runner
measures, for each model, after warm-up calls (compilation, caches):
  predict1_ms      median ms of ``model.predict(x1, verbose=0)`` on one sample (NumPy in, NumPy out);
  call1_ms         median ms of ``model(x1, training=False)`` (an engine tensor out);
  pob1_ms          median ms of ``model.predict_on_batch(x1)`` (NumPy out);
  predict1024_sps  samples/s of ``model.predict(x1024, batch_size=1024, verbose=0)``.
The anchors are the engines' own forward calls on the same network, NumPy in and NumPy out:
  torch-direct: the torch.nn module under ``torch.inference_mode()`` (channels_last for the CNN);
  jax-direct:   a ``jax.jit``-compiled apply function of a parameter dict.
Their ``predict1_ms`` and ``predict1024_sps`` are that call on 1 and on 1,024 samples.

Prints one JSON line: {"runner", "models": {name: {figure: value}}}.
Usage: python bench/predict.py RUNNER   with RUNNER one of
  lamina-torch, lamina-jax, keras-torch, keras-jax, torch-direct, jax-direct
"""

import json
import os
import sys
import time

import numpy as np

MODELS = ("mnist_mlp", "cifar10_cnn")
INPUT_SHAPES = {"mnist_mlp": (28, 28), "cifar10_cnn": (32, 32, 3)}
CALLS_1 = int(os.environ.get("PREDICT_BENCH_CALLS", 200))
CALLS_1024 = int(os.environ.get("PREDICT_BENCH_CALLS_1024", 10))
WARMUP = 5


def build(keras, name):
    """(model, optimizer) of one of MODELS in the Keras API (lamina or Keras 3)."""
    if name == "mnist_mlp":
        model = keras.Sequential([keras.Input(INPUT_SHAPES[name]), keras.layers.Flatten(),
                                  keras.layers.Dense(128, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        return model, keras.optimizers.Adam()
    from cifar10_cnn import keras_model

    return keras_model(keras, "tutorial")


def inputs(name, n, seed=0):
    return np.random.RandomState(seed).uniform(size=(n,) + INPUT_SHAPES[name]).astype("float32")


def median_ms(fn, x, calls):
    for _ in range(WARMUP):
        fn(x)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def run_keras_like(keras, name):
    model, _ = build(keras, name)
    x1, x1024 = inputs(name, 1), inputs(name, 1024)
    ms1024 = median_ms(lambda x: model.predict(x, batch_size=1024, verbose=0), x1024, CALLS_1024)
    return {"predict1_ms": median_ms(lambda x: model.predict(x, verbose=0), x1, CALLS_1),
            "call1_ms": median_ms(lambda x: model(x, training=False), x1, CALLS_1),
            "pob1_ms": median_ms(model.predict_on_batch, x1, CALLS_1),
            "predict1024_sps": 1024 / (ms1024 / 1000)}


def torch_direct(name):
    import torch

    if name == "mnist_mlp":
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                    torch.nn.Linear(128, 10), torch.nn.Softmax(-1))
        to_input = torch.from_numpy
    else:
        from cifar10_cnn import torch_model

        model = torch.nn.Sequential(torch_model(torch, "tutorial")[0], torch.nn.Softmax(-1))
        model = model.to(memory_format=torch.channels_last)

        def to_input(x):
            return torch.from_numpy(x).permute(0, 3, 1, 2)  # NCHW shape over NHWC memory: channels_last
    model.eval()

    def forward(x):
        with torch.inference_mode():
            return model(to_input(x)).numpy()

    return forward


def jax_direct(name):
    import jax
    import jax.numpy as jnp

    keys = iter(jax.random.split(jax.random.PRNGKey(0), 4))

    def glorot(shape, fan_in, fan_out):
        lim = np.sqrt(6 / (fan_in + fan_out))
        return jax.random.uniform(next(keys), shape, minval=-lim, maxval=lim)

    if name == "mnist_mlp":
        params = {"w1": glorot((784, 128), 784, 128), "b1": jnp.zeros(128),
                  "w2": glorot((128, 10), 128, 10), "b2": jnp.zeros(10)}

        def apply(p, x):
            h = jax.nn.relu(x.reshape(x.shape[0], -1) @ p["w1"] + p["b1"])
            return jax.nn.softmax(h @ p["w2"] + p["b2"])
    else:
        params = {"c1": glorot((3, 3, 3, 32), 27, 288), "cb1": jnp.zeros(32),
                  "c2": glorot((3, 3, 32, 64), 288, 576), "cb2": jnp.zeros(64),
                  "w": glorot((6 * 6 * 64, 10), 2304, 10), "b": jnp.zeros(10)}

        def conv_pool(x, w, b):
            y = jax.lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            y = jax.nn.relu(y + b)
            return jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

        def apply(p, x):
            h = conv_pool(conv_pool(x, p["c1"], p["cb1"]), p["c2"], p["cb2"])
            return jax.nn.softmax(h.reshape(h.shape[0], -1) @ p["w"] + p["b"])

    jitted = jax.jit(apply)
    return lambda x: np.asarray(jitted(params, x))


def run_direct(runner, name):
    forward = torch_direct(name) if runner == "torch-direct" else jax_direct(name)
    ms1024 = median_ms(forward, inputs(name, 1024), CALLS_1024)
    return {"predict1_ms": median_ms(forward, inputs(name, 1), CALLS_1), "predict1024_sps": 1024 / (ms1024 / 1000)}


def main(runner):
    if runner.startswith("lamina"):
        import lamina as keras
    elif runner.startswith("keras"):
        import keras
    elif runner not in ("torch-direct", "jax-direct"):
        raise SystemExit(f"unknown runner {runner}")
    out = {}
    for name in MODELS:
        out[name] = run_direct(runner, name) if runner.endswith("direct") else run_keras_like(keras, name)
    print(json.dumps({"runner": runner, "models": out, "time": time.time()}))


if __name__ == "__main__":
    main(sys.argv[1])
