"""Files in the exact layouts Keras 3 and tf.keras 2 write, built with zipfile/h5py (no keras needed).

The layouts were copied from files written by keras 3.15.1 (KERAS_BACKEND=torch) for
``Sequential([Input((4, 3)), Flatten(), Dense(8, "relu"), Dropout(0.2), Dense(3), Activation("softmax")])``
compiled with Adam, trained one step: ``metadata.json``, ``config.json`` (below) and
``model.weights.h5`` with ``layers/<name>/vars/<i>`` and ``optimizer/vars/<i>`` (Adam's slots
interleaved per variable: iteration, learning_rate, m0, v0, m1, v1, ...; iteration is int32).
"""

import io
import json
import zipfile

import h5py
import numpy as np

_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None,
           "shared_object_id": 140686922371664}


def _dense(name, units, activation, in_dim):
    return {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": _POLICY, "units": units, "activation": activation,
        "use_bias": True,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                               "config": {"seed": None, "input_axes": None, "output_axes": None},
                               "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                             "registered_name": None},
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
        "quantization_config": None}, "registered_name": None, "build_config": {"input_shape": [None, in_dim]}}


def keras3_config():
    """``config.json`` of the model above, as Keras 3.15 writes it."""
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {
            "batch_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "ragged": False,
            "name": "input_layer", "optional": False}, "registered_name": None},
        {"module": "keras.layers", "class_name": "Flatten", "config": {
            "name": "flatten", "trainable": True, "dtype": _POLICY, "data_format": "channels_last"},
         "registered_name": None, "build_config": {"input_shape": [None, 4, 3]}},
        _dense("dense", 8, "relu", 12),
        {"module": "keras.layers", "class_name": "Dropout", "config": {
            "name": "dropout", "trainable": True, "dtype": _POLICY, "rate": 0.2, "seed": None, "noise_shape": None},
         "registered_name": None},
        _dense("dense_1", 3, "linear", 8),
        {"module": "keras.layers", "class_name": "Activation", "config": {
            "name": "activation", "trainable": True, "dtype": _POLICY, "activation": "softmax"},
         "registered_name": None},
    ]
    adam = {"name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None, "clipnorm": None,
            "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
            "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}
    return {
        "module": "keras", "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True, "dtype": _POLICY, "layers": layers,
                   "build_input_shape": [None, 4, 3]},
        "registered_name": None, "build_config": {"input_shape": [None, 4, 3]},
        "compile_config": {
            "optimizer": {"module": "keras.src.backend.torch.optimizers.torch_adam", "class_name": "Adam",
                          "config": adam, "registered_name": "Adam"},
            "loss": "sparse_categorical_crossentropy", "loss_weights": None, "metrics": ["accuracy"],
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False},
    }


def reference_weights(seed=0):
    """Weights (kernel, bias per Dense) and Adam slots for the model above."""
    rng = np.random.default_rng(seed)
    w = {"dense": [rng.normal(size=(12, 8)).astype("float32"), rng.normal(size=(8,)).astype("float32")],
         "dense_1": [rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(3,)).astype("float32")]}
    slots = [(a.shape, rng.random(a.shape).astype("float32"), rng.random(a.shape).astype("float32"))
             for name in ("dense", "dense_1") for a in w[name]]
    return w, slots


def reference_predict(weights, x):
    """What the model computes in inference (Dropout is the identity)."""
    h = np.maximum(x.reshape(len(x), -1) @ weights["dense"][0] + weights["dense"][1], 0)
    z = h @ weights["dense_1"][0] + weights["dense_1"][1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def keras3_weights_h5(weights, slots, iterations=7):
    """``model.weights.h5`` bytes in Keras 3's layout."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        for name in ("activation", "dense", "dense_1", "dropout", "flatten"):
            g = f.create_group(f"layers/{name}/vars")
            g.attrs["name"] = name
            for i, a in enumerate(weights.get(name, [])):
                g.create_dataset(str(i), data=a)
        g = f.create_group("optimizer/vars")
        g.attrs["name"] = "adam"
        g.create_dataset("0", data=np.int32(iterations))
        g.create_dataset("1", data=np.float32(0.001))
        i = 2
        for _, m, v in slots:  # interleaved: m, v per variable
            g.create_dataset(str(i), data=m)
            g.create_dataset(str(i + 1), data=v)
            i += 2
        f.create_group("vars").attrs["name"] = "sequential"
    return buf.getvalue()


def write_keras3_file(path, weights, slots, config=None, extra_members=()):
    """Write a ``.keras`` archive as Keras 3 does (ZIP_STORED members)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-11-25@17:57:25"}))
        zf.writestr("config.json", json.dumps(config or keras3_config()))
        zf.writestr("model.weights.h5", keras3_weights_h5(weights, slots))
        for name, data in extra_members:
            zf.writestr(name, data)


def keras2_functional_config():
    """A tf.keras 2.x Functional config (old ``inbound_nodes`` lists, ``batch_input_shape``)."""
    def dense(name, units, act, inbound):
        return {"class_name": "Dense", "name": name, "config": {
            "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": act,
            "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}, "inbound_nodes": [[[inbound, 0, 0, {}]]]}

    return {"class_name": "Functional", "config": {
        "name": "model", "trainable": True,
        "layers": [
            {"class_name": "InputLayer", "name": "input_1", "config": {
                "batch_input_shape": [None, 4, 3], "dtype": "float32", "sparse": False, "ragged": False,
                "name": "input_1"}, "inbound_nodes": []},
            {"class_name": "Flatten", "name": "flatten", "config": {
                "name": "flatten", "trainable": True, "dtype": "float32", "data_format": "channels_last"},
             "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            dense("dense", 8, "relu", "flatten"),
            {"class_name": "Dropout", "name": "dropout", "config": {
                "name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.2, "noise_shape": None,
                "seed": None}, "inbound_nodes": [[["dense", 0, 0, {}]]]},
            dense("dense_1", 3, "softmax", "dropout"),
        ],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]},
        "keras_version": "2.15.0", "backend": "tensorflow"}


def write_keras2_h5(path, weights, config=None):
    """Write a whole-model HDF5 file as tf.keras 2.15 does (``model_weights/<layer>/<layer>/kernel:0``)."""
    training = {"loss": "sparse_categorical_crossentropy",
                "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
                    "name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}}]],
                "weighted_metrics": None, "loss_weights": None,
                "optimizer_config": {"class_name": "Adam", "config": {
                    "name": "Adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                    "amsgrad": False}}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config or keras2_functional_config())
        f.attrs["training_config"] = json.dumps(training)
        g = f.create_group("model_weights")
        names = ["input_1", "flatten", "dense", "dropout", "dense_1"]
        g.attrs["layer_names"] = np.array([n.encode() for n in names])
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "2.15.0"
        for n in names:
            lg = g.create_group(n)
            wn = [f"{n}/kernel:0", f"{n}/bias:0"] if n in weights else []
            lg.attrs["weight_names"] = np.array([w.encode() for w in wn], dtype="S")
            for w, a in zip(wn, weights.get(n, [])):
                lg.create_dataset(w, data=a)
