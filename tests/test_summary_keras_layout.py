"""``Model.summary()`` against the text Keras 3.15.1 prints for the same models.

Each expected text below was printed by Keras 3.15.1 (JAX backend, ``COLUMNS=80``, ``print_fn`` capturing) for
the model built by the builder of the same name, written here with ``lamina`` in place of ``keras``. Every layer
and model is named, so the texts do not depend on name counters.
"""

import io
import logging
import re
import sys

import numpy as np
import pytest

import lamina as keras
from lamina import layers


@pytest.fixture(autouse=True)
def _console_80_columns(monkeypatch):
    # Keras's default width is min(88 or 108, terminal columns - 4), and rich crops to the terminal's width:
    # pin the terminal at 80 columns (what a pipe or a log file gets).
    monkeypatch.setenv("COLUMNS", "80")


def _summary(model, **kwargs):
    """The text summary() gives print_fn, checking it is called as Keras calls it: once, with one string."""
    calls = []
    model.summary(print_fn=lambda *args, **kw: calls.append((args, kw)), **kwargs)
    assert len(calls) == 1, calls
    args, kw = calls[0]
    assert kw == {} and len(args) == 1 and isinstance(args[0], str) and args[0].endswith("\n")
    return args[0]


# ---- the models ----------------------------------------------------------------------------------------------

def sequential():
    return keras.Sequential([keras.Input((8,), name="features"), layers.Dense(16, activation="relu", name="hidden"),
                             layers.Dropout(0.1, name="drop"), layers.Dense(3, name="logits")], name="mlp")


def sequential_unbuilt():
    return keras.Sequential([layers.Dense(16, name="d1"), layers.Dense(3, name="d2")], name="lazy")


def branches():
    inp = keras.Input((10,), name="inp")
    a = layers.Dense(8, name="a")(inp)
    b = layers.Dense(8, name="b")(inp)
    cat = layers.Concatenate(name="cat")([a, b])
    return keras.Model(inp, layers.Dense(1, name="out")(cat), name="branchy")


def two_inputs():
    x1, x2 = keras.Input((4,), name="x1"), keras.Input((6,), name="x2")
    h = layers.Dense(5, name="hidden")(layers.Concatenate(name="concatenate")([x1, x2]))
    return keras.Model([x1, x2], [layers.Dense(1, name="o1")(h), layers.Dense(2, name="o2")(h)], name="two_in")


def shared_layer():
    left, right = keras.Input((4,), name="left_input_tensor"), keras.Input((4,), name="right_input_tensor")
    shared = layers.Dense(3, name="shared")
    return keras.Model([left, right], layers.Add(name="add")([shared(left), shared(right)]), name="siamese")


def conv_chain():
    inp = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(4, 3, name="conv")(inp)
    x = layers.BatchNormalization(name="batch_normalization")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inp, layers.Dense(10, name="classifier")(x), name="convnet")


def nested():
    inner = keras.Sequential([keras.Input((5,), name="inner_in"), layers.Dense(4, name="inner_d1"),
                              layers.Dense(2, name="inner_d2")], name="inner")
    inner.layers[0].trainable = False
    inp = keras.Input((5,), name="outer_in")
    return keras.Model(inp, layers.Dense(1, name="head")(inner(inp)), name="outer")


def nested_graph():
    inp = keras.Input((10,), name="inp")
    a = layers.Dense(8, name="a")(inp)
    b = layers.Dense(8, name="b")(inp)
    inner = keras.Model(inp, layers.Concatenate(name="cat")([a, b]), name="inner_func")
    inner.layers[1].trainable = False
    j = keras.Input((10,), name="outer_inp")
    deep = keras.Sequential([keras.Input((16,), name="deep_in"), keras.Sequential(
        [keras.Input((16,), name="deeper_in"), layers.Dense(2, name="deepest")], name="lvl2")], name="lvl1")
    head = layers.Dense(3, name="head")(deep(inner(j)))
    aux = layers.Dense(1, name="aux")(inner(j))
    return keras.Model(j, [head, aux], name="outer_graph")


def frozen():
    model = keras.Sequential([keras.Input((4,), name="x"), layers.Dense(3, name="frozen_dense"),
                              layers.BatchNormalization(name="batch_normalization"), layers.Dense(2, name="top")],
                             name="partly_frozen")
    model.layers[0].trainable = False
    return model


def recurrent():
    return keras.Sequential([keras.Input((10, 3), name="steps"), layers.LSTM(16, return_sequences=True, name="lstm"),
                             layers.GRU(4, name="gru"), layers.Dense(1, name="dense")], name="rnn")


def recurrent_states():
    inp = keras.Input((5, 3), name="seq")
    out, h, c = layers.LSTM(4, return_state=True, name="lstm")(inp)
    return keras.Model(inp, [out, h, c], name="with_states")


def long_names():
    return keras.Sequential([keras.Input((4,), name="x"),
                             layers.Dense(3, name="a_really_really_long_layer_name_that_goes_on"),
                             layers.Dense(2, name="a" * 30 + " spaced name")], name="long_names")


def with_ops():
    inp = keras.Input((4,), name="x")
    h = layers.Dense(3, name="d")(inp)
    out = keras.ops.concatenate([keras.ops.add(h, 1.0), h], axis=-1)
    return keras.Model(inp, out, name="withops")


def mixed_dtypes():
    return keras.Sequential([keras.Input((5,), dtype="int32", name="ids"), layers.Embedding(10, 4, name="emb"),
                             layers.LSTM(3, name="ls"), layers.Dense(1, dtype="float16", name="half")],
                            name="mixed")


def big():
    return keras.Sequential([keras.Input((1000,), name="x"), layers.Dense(2000, name="wide"),
                             layers.Dense(1000, name="narrow")], name="big")


def subclassed():
    class TwoDense(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = layers.Dense(7, name="d1")
            self.d2 = layers.Dense(2, name="d2")

        def call(self, x):
            return self.d2(self.d1(x))

    return TwoDense(name="two_dense")


# ---- the text Keras 3.15.1 prints ----------------------------------------------------------------------------

CASES = [
    ("sequential", "sequential", {}),
    ("sequential_unbuilt", "sequential_unbuilt", {}),
    ("branches", "branches", {}),
    ("two_inputs", "two_inputs", {}),
    ("shared_layer", "shared_layer", {}),
    ("conv_chain", "conv_chain", {}),
    ("nested", "nested", {}),
    ("nested_expand", "nested", {"expand_nested": True}),
    ("nested_trainable", "nested", {"show_trainable": True}),
    ("nested_expand_trainable", "nested", {"expand_nested": True, "show_trainable": True}),
    ("nested_graph", "nested_graph", {}),
    ("nested_graph_expand_trainable", "nested_graph", {"expand_nested": True, "show_trainable": True}),
    ("frozen_trainable", "frozen", {"show_trainable": True}),
    ("recurrent", "recurrent", {}),
    ("recurrent_states", "recurrent_states", {}),
    ("long_names", "long_names", {}),
    ("long_names_wide", "long_names", {"line_length": 70, "show_trainable": True}),
    ("with_ops", "with_ops", {}),
    ("mixed_dtypes", "mixed_dtypes", {}),
    ("big", "big", {}),
    ("subclassed_unbuilt", "subclassed", {}),
    ("narrow", "nested_graph", {"line_length": 50}),
    ("wider_than_console", "nested_graph", {"line_length": 120}),
    ("positions", "nested_graph", {"line_length": 78, "positions": [0.5, 0.7, 0.8, 1.0]}),
    ("layer_range", "nested_graph", {"layer_range": ["head", "aux"]}),
    ("layer_range_reversed", "long_names", {"layer_range": ["a{30}", "a_really"]}),
]

EXPECTED = {}

EXPECTED["sequential"] = """\
Model: "mlp"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ hidden (Dense)                  │ (None, 16)             │           144 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ drop (Dropout)                  │ (None, 16)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ logits (Dense)                  │ (None, 3)              │            51 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 195 (780.00 B)
 Trainable params: 195 (780.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["sequential_unbuilt"] = """\
Model: "lazy"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ d1 (Dense)                      │ ?                      │   0 (unbuilt) │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ d2 (Dense)                      │ ?                      │   0 (unbuilt) │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["branches"] = """\
Model: "branchy"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ inp (InputLayer)    │ (None, 10)        │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ a (Dense)           │ (None, 8)         │         88 │ inp[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ b (Dense)           │ (None, 8)         │         88 │ inp[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ cat (Concatenate)   │ (None, 16)        │          0 │ a[0][0], b[0][0]  │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ out (Dense)         │ (None, 1)         │         17 │ cat[0][0]         │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 193 (772.00 B)
 Trainable params: 193 (772.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["two_inputs"] = """\
Model: "two_in"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ x1 (InputLayer)     │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ x2 (InputLayer)     │ (None, 6)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 10)        │          0 │ x1[0][0],         │
│ (Concatenate)       │                   │            │ x2[0][0]          │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ hidden (Dense)      │ (None, 5)         │         55 │ concatenate[0][0] │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ o1 (Dense)          │ (None, 1)         │          6 │ hidden[0][0]      │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ o2 (Dense)          │ (None, 2)         │         12 │ hidden[0][0]      │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 73 (292.00 B)
 Trainable params: 73 (292.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["shared_layer"] = """\
Model: "siamese"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ left_input_tensor   │ (None, 4)         │          0 │ -                 │
│ (InputLayer)        │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ right_input_tensor  │ (None, 4)         │          0 │ -                 │
│ (InputLayer)        │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ shared (Dense)      │ (None, 3)         │         15 │ left_input_tenso… │
│                     │                   │            │ right_input_tens… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add (Add)           │ (None, 3)         │          0 │ shared[0][0],     │
│                     │                   │            │ shared[1][0]      │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 15 (60.00 B)
 Trainable params: 15 (60.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["conv_chain"] = """\
Model: "convnet"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ image (InputLayer)              │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv (Conv2D)                   │ (None, 26, 26, 4)      │            40 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 26, 26, 4)      │            16 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 2704)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ classifier (Dense)              │ (None, 10)             │        27,050 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 27,106 (105.88 KB)
 Trainable params: 27,098 (105.85 KB)
 Non-trainable params: 8 (32.00 B)
"""

EXPECTED["nested"] = """\
Model: "outer"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ outer_in (InputLayer)           │ (None, 5)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ inner (Sequential)              │ (None, 2)              │            34 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ head (Dense)                    │ (None, 1)              │             3 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 37 (148.00 B)
 Trainable params: 13 (52.00 B)
 Non-trainable params: 24 (96.00 B)
"""

EXPECTED["nested_expand"] = """\
Model: "outer"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ outer_in (InputLayer)           │ (None, 5)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ inner (Sequential)              │ (None, 2)              │            34 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│    └ inner_d1 (Dense)           │ (None, 4)              │            24 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│    └ inner_d2 (Dense)           │ (None, 2)              │            10 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ head (Dense)                    │ (None, 1)              │             3 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 37 (148.00 B)
 Trainable params: 13 (52.00 B)
 Non-trainable params: 24 (96.00 B)
"""

EXPECTED["nested_trainable"] = """\
Model: "outer"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)                ┃ Output Shape          ┃    Param # ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ outer_in (InputLayer)       │ (None, 5)             │          0 │   -   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ inner (Sequential)          │ (None, 2)             │         34 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ head (Dense)                │ (None, 1)             │          3 │   Y   │
└─────────────────────────────┴───────────────────────┴────────────┴───────┘
 Total params: 37 (148.00 B)
 Trainable params: 13 (52.00 B)
 Non-trainable params: 24 (96.00 B)
"""

EXPECTED["nested_expand_trainable"] = """\
Model: "outer"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)                ┃ Output Shape          ┃    Param # ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ outer_in (InputLayer)       │ (None, 5)             │          0 │   -   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ inner (Sequential)          │ (None, 2)             │         34 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│    └ inner_d1 (Dense)       │ (None, 4)             │         24 │   N   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│    └ inner_d2 (Dense)       │ (None, 2)             │         10 │   Y   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ head (Dense)                │ (None, 1)             │          3 │   Y   │
└─────────────────────────────┴───────────────────────┴────────────┴───────┘
 Total params: 37 (148.00 B)
 Trainable params: 13 (52.00 B)
 Non-trainable params: 24 (96.00 B)
"""

EXPECTED["nested_graph"] = """\
Model: "outer_graph"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ outer_inp           │ (None, 10)        │          0 │ -                 │
│ (InputLayer)        │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ inner_func          │ (None, 16)        │        176 │ outer_inp[0][0],  │
│ (Functional)        │                   │            │ outer_inp[0][0]   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ lvl1 (Sequential)   │ (None, 2)         │         34 │ inner_func[0][0]  │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ head (Dense)        │ (None, 3)         │          9 │ lvl1[0][0]        │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ aux (Dense)         │ (None, 1)         │         17 │ inner_func[1][0]  │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 236 (944.00 B)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 88 (352.00 B)
"""

EXPECTED["nested_graph_expand_trainable"] = """\
Model: "outer_graph"
┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)      ┃ Output Shape    ┃   Param # ┃ Connected to   ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━┩
│ outer_inp         │ (None, 10)      │         0 │ -              │   -   │
│ (InputLayer)      │                 │           │                │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ inner_func        │ (None, 16)      │       176 │ outer_inp[0][… │   Y   │
│ (Functional)      │                 │           │ outer_inp[0][… │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│    └ inp          │ (None, 10)      │         0 │ -              │   -   │
│ (InputLayer)      │                 │           │                │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│    └ a (Dense)    │ (None, 8)       │        88 │ -              │   N   │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│    └ b (Dense)    │ (None, 8)       │        88 │ -              │   Y   │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│    └ cat          │ (None, 16)      │         0 │ -              │   -   │
│ (Concatenate)     │                 │           │                │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ lvl1 (Sequential) │ (None, 2)       │        34 │ inner_func[0]… │   Y   │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│    └ lvl2         │ (None, 2)       │        34 │ -              │   Y   │
│ (Sequential)      │                 │           │                │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│       └ deepest   │ (None, 2)       │        34 │ -              │   Y   │
│ (Dense)           │                 │           │                │       │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ head (Dense)      │ (None, 3)       │         9 │ lvl1[0][0]     │   Y   │
├───────────────────┼─────────────────┼───────────┼────────────────┼───────┤
│ aux (Dense)       │ (None, 1)       │        17 │ inner_func[1]… │   Y   │
└───────────────────┴─────────────────┴───────────┴────────────────┴───────┘
 Total params: 236 (944.00 B)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 88 (352.00 B)
"""

EXPECTED["frozen_trainable"] = """\
Model: "partly_frozen"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃ Layer (type)                ┃ Output Shape          ┃    Param # ┃ Trai… ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ frozen_dense (Dense)        │ (None, 3)             │         15 │   N   │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ batch_normalization         │ (None, 3)             │         12 │   Y   │
│ (BatchNormalization)        │                       │            │       │
├─────────────────────────────┼───────────────────────┼────────────┼───────┤
│ top (Dense)                 │ (None, 2)             │          8 │   Y   │
└─────────────────────────────┴───────────────────────┴────────────┴───────┘
 Total params: 35 (140.00 B)
 Trainable params: 14 (56.00 B)
 Non-trainable params: 21 (84.00 B)
"""

EXPECTED["recurrent"] = """\
Model: "rnn"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ lstm (LSTM)                     │ (None, 10, 16)         │         1,280 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ gru (GRU)                       │ (None, 4)              │           264 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 1)              │             5 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,549 (6.05 KB)
 Trainable params: 1,549 (6.05 KB)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["recurrent_states"] = """\
Model: "with_states"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ seq (InputLayer)                │ (None, 5, 3)           │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ lstm (LSTM)                     │ [(None, 4), (None, 4), │           128 │
│                                 │ (None, 4)]             │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 128 (512.00 B)
 Trainable params: 128 (512.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["long_names"] = """\
Model: "long_names"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ a_really_really_long_layer_nam… │ (None, 3)              │            15 │
│ (Dense)                         │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  │ (None, 2)              │             8 │
│ spaced name (Dense)             │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 23 (92.00 B)
 Trainable params: 23 (92.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["long_names_wide"] = """\
Model: "long_names"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━┓
┃ Layer (type)              ┃ Output Shape        ┃   Param # ┃ Tra… ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━┩
│ a_really_really_long_lay… │ (None, 3)           │        15 │  Y   │
│ (Dense)                   │                     │           │      │
├───────────────────────────┼─────────────────────┼───────────┼──────┤
│ aaaaaaaaaaaaaaaaaaaaaaaa… │ (None, 2)           │         8 │  Y   │
│ spaced name (Dense)       │                     │           │      │
└───────────────────────────┴─────────────────────┴───────────┴──────┘
 Total params: 23 (92.00 B)
 Trainable params: 23 (92.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["with_ops"] = """\
Model: "withops"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ x (InputLayer)      │ (None, 4)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ d (Dense)           │ (None, 3)         │         15 │ x[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add (Add)           │ (None, 3)         │          0 │ d[0][0]           │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ concatenate         │ (None, 6)         │          0 │ add[0][0],        │
│ (Concatenate)       │                   │            │ d[0][0]           │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 15 (60.00 B)
 Trainable params: 15 (60.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["mixed_dtypes"] = """\
Model: "mixed"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ emb (Embedding)                 │ (None, 5, 4)           │            40 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ ls (LSTM)                       │ (None, 3)              │            96 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ half (Dense)                    │ (None, 1)              │             4 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 140 (552.00 B)
 Trainable params: 140 (552.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["big"] = """\
Model: "big"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ wide (Dense)                    │ (None, 2000)           │     2,002,000 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ narrow (Dense)                  │ (None, 1000)           │     2,001,000 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 4,003,000 (15.27 MB)
 Trainable params: 4,003,000 (15.27 MB)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["subclassed_unbuilt"] = """\
Model: "two_dense"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ d1 (Dense)                      │ ?                      │   0 (unbuilt) │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ d2 (Dense)                      │ ?                      │   0 (unbuilt) │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["narrow"] = """\
Model: "outer_graph"
┏━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━┓
┃              ┃ Output     ┃ Param ┃ Connected  ┃
┃ Layer (type) ┃ Shape      ┃     # ┃ to         ┃
┡━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━┩
│ outer_inp    │ (None, 10) │     0 │ -          │
│ (InputLayer) │            │       │            │
├──────────────┼────────────┼───────┼────────────┤
│ inner_func   │ (None, 16) │   176 │ outer_inp… │
│ (Functional) │            │       │ outer_inp… │
├──────────────┼────────────┼───────┼────────────┤
│ lvl1         │ (None, 2)  │    34 │ inner_fun… │
│ (Sequential) │            │       │            │
├──────────────┼────────────┼───────┼────────────┤
│ head (Dense) │ (None, 3)  │     9 │ lvl1[0][0] │
├──────────────┼────────────┼───────┼────────────┤
│ aux (Dense)  │ (None, 1)  │    17 │ inner_fun… │
└──────────────┴────────────┴───────┴────────────┘
 Total params: 236 (944.00 B)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 88 (352.00 B)
"""

EXPECTED["wider_than_console"] = (
    'Model: "outer_graph"\n'
    '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━\n'
    '┃ Layer (type)                      ┃ Output Shape                 ┃           P\n'
    '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━\n'
    '│ outer_inp (InputLayer)            │ (None, 10)                   │            \n'
    '├───────────────────────────────────┼──────────────────────────────┼────────────\n'
    '│ inner_func (Functional)           │ (None, 16)                   │            \n'
    '│                                   │                              │            \n'
    '├───────────────────────────────────┼──────────────────────────────┼────────────\n'
    '│ lvl1 (Sequential)                 │ (None, 2)                    │            \n'
    '├───────────────────────────────────┼──────────────────────────────┼────────────\n'
    '│ head (Dense)                      │ (None, 3)                    │            \n'
    '├───────────────────────────────────┼──────────────────────────────┼────────────\n'
    '│ aux (Dense)                       │ (None, 1)                    │            \n'
    '└───────────────────────────────────┴──────────────────────────────┴────────────\n'
    ' Total params: 236 (944.00 B)\n'
    ' Trainable params: 148 (592.00 B)\n'
    ' Non-trainable params: 88 (352.00 B)\n'
)

EXPECTED["positions"] = """\
Model: "outer_graph"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━━┓
┃                                      ┃              ┃ Par… ┃               ┃
┃ Layer (type)                         ┃ Output Shape ┃    # ┃ Connected to  ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━━┩
│ outer_inp (InputLayer)               │ (None, 10)   │    0 │ -             │
├──────────────────────────────────────┼──────────────┼──────┼───────────────┤
│ inner_func (Functional)              │ (None, 16)   │  176 │ outer_inp[0]… │
│                                      │              │      │ outer_inp[0]… │
├──────────────────────────────────────┼──────────────┼──────┼───────────────┤
│ lvl1 (Sequential)                    │ (None, 2)    │   34 │ inner_func[0… │
├──────────────────────────────────────┼──────────────┼──────┼───────────────┤
│ head (Dense)                         │ (None, 3)    │    9 │ lvl1[0][0]    │
├──────────────────────────────────────┼──────────────┼──────┼───────────────┤
│ aux (Dense)                          │ (None, 1)    │   17 │ inner_func[1… │
└──────────────────────────────────────┴──────────────┴──────┴───────────────┘
 Total params: 236 (944.00 B)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 88 (352.00 B)
"""

EXPECTED["layer_range"] = """\
Model: "outer_graph"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ head (Dense)        │ (None, 3)         │          9 │ lvl1[0][0]        │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ aux (Dense)         │ (None, 1)         │         17 │ inner_func[1][0]  │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 236 (944.00 B)
 Trainable params: 148 (592.00 B)
 Non-trainable params: 88 (352.00 B)
"""

EXPECTED["layer_range_reversed"] = """\
Model: "long_names"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ a_really_really_long_layer_nam… │ (None, 3)              │            15 │
│ (Dense)                         │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  │ (None, 2)              │             8 │
│ spaced name (Dense)             │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 23 (92.00 B)
 Trainable params: 23 (92.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["subclassed_called"] = """\
Model: "two_dense"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ d1 (Dense)                      │ (2, 7)                 │            28 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ d2 (Dense)                      │ (2, 2)                 │            16 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 44 (176.00 B)
 Trainable params: 44 (176.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["long_model_name"] = (
    'Model: \n'
    '"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\n'
    'mmmmmm"\n'
    '┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓\n'
    '┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃\n'
    '┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩\n'
    '│ d (Dense)                       │ (None, 1)              │             5 │\n'
    '└─────────────────────────────────┴────────────────────────┴───────────────┘\n'
    ' Total params: 5 (20.00 B)\n'
    ' Trainable params: 5 (20.00 B)\n'
    ' Non-trainable params: 0 (0.00 B)\n'
)

EXPECTED["wide_sequential"] = """\
Model: "mlp"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ hidden (Dense)                       │ (None, 16)                  │             144 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ drop (Dropout)                       │ (None, 16)                  │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ logits (Dense)                       │ (None, 3)                   │              51 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 195 (780.00 B)
 Trainable params: 195 (780.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["wide_branches"] = """\
Model: "branchy"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ Layer (type)                  ┃ Output Shape              ┃          Param # ┃ Connected to              ┃ Trainable ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
│ inp (InputLayer)              │ (None, 10)                │                0 │ -                         │     -     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ a (Dense)                     │ (None, 8)                 │               88 │ inp[0][0]                 │     Y     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ b (Dense)                     │ (None, 8)                 │               88 │ inp[0][0]                 │     Y     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ cat (Concatenate)             │ (None, 16)                │                0 │ a[0][0], b[0][0]          │     -     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ out (Dense)                   │ (None, 1)                 │               17 │ cat[0][0]                 │     Y     │
└───────────────────────────────┴───────────────────────────┴──────────────────┴───────────────────────────┴───────────┘
 Total params: 193 (772.00 B)
 Trainable params: 193 (772.00 B)
 Non-trainable params: 0 (0.00 B)
"""

EXPECTED["ascii"] = """\
Model: "partly_frozen"
+--------------------------------------------------------------------------+
| Layer (type)                    | Output Shape           |       Param # |
|---------------------------------+------------------------+---------------|
| frozen_dense (Dense)            | (None, 3)              |            15 |
|---------------------------------+------------------------+---------------|
| batch_normalization             | (None, 3)              |            12 |
| (BatchNormalization)            |                        |               |
|---------------------------------+------------------------+---------------|
| top (Dense)                     | (None, 2)              |             8 |
+--------------------------------------------------------------------------+
 Total params: 35 (140.00 B)
 Trainable params: 14 (56.00 B)
 Non-trainable params: 21 (84.00 B)
"""

EXPECTED["trained"] = """\
Model: "trained"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ d1 (Dense)                      │ (None, 3)              │            15 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ d2 (Dense)                      │ (None, 1)              │             4 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 59 (236.00 B)
 Trainable params: 19 (76.00 B)
 Non-trainable params: 0 (0.00 B)
 Optimizer params: 40 (160.00 B)
"""


@pytest.mark.parametrize("case, builder, kwargs", CASES, ids=[c[0] for c in CASES])
def test_summary_matches_keras(case, builder, kwargs):
    assert _summary(globals()[builder](), **kwargs) == EXPECTED[case]


def test_subclassed_model_after_a_call_shows_the_shapes_it_was_built_for():
    model = subclassed()
    model(np.zeros((2, 3), "float32"))
    assert _summary(model) == EXPECTED["subclassed_called"]


def test_long_model_name_is_folded_at_the_console_width():
    model = keras.Sequential([keras.Input((4,), name="x"), layers.Dense(1, name="d")], name="m" * 85)
    assert _summary(model) == EXPECTED["long_model_name"]


def test_optimizer_params_after_fit():
    model = keras.Sequential([keras.Input((4,), name="x"), layers.Dense(3, name="d1"), layers.Dense(1, name="d2")],
                             name="trained")
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 4), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    text = _summary(model)
    # The optimizer's byte size depends on its step counter's dtype (int32 in Keras): compare the rest.
    size = re.compile(r"\(\d+\.\d\d B\)")
    mask = lambda t: [size.sub("(N B)", l) if l.startswith((" Total", " Optimizer")) else l for l in t.splitlines()]
    assert mask(text) == mask(EXPECTED["trained"])
    assert " Optimizer params: 40 (" in text and " Total params: 59 (" in text


def test_default_width_follows_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert _summary(sequential()) == EXPECTED["wide_sequential"]
    assert _summary(branches(), show_trainable=True) == EXPECTED["wide_branches"]


def test_prints_to_stdout_without_print_fn(capsys):
    sequential().summary()
    assert capsys.readouterr().out == EXPECTED["sequential"]


def test_print_fn_print_and_file_write(capsys, tmp_path):
    sequential().summary(print_fn=print)  # as in Keras, print adds a blank line after the text
    assert capsys.readouterr().out == EXPECTED["sequential"] + "\n"
    path = tmp_path / "summary.txt"
    with open(path, "w", encoding="utf-8") as fh:
        sequential().summary(print_fn=lambda x: fh.write(x + "\n"))
    assert path.read_text(encoding="utf-8") == EXPECTED["sequential"] + "\n"


def test_logged_when_interactive_logging_is_disabled(capsys, caplog):
    keras.utils.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="lamina"):
            sequential().summary()
    finally:
        keras.utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert EXPECTED["sequential"].rstrip("\n") in caplog.text


def test_ascii_box_when_stdout_cannot_encode_box_characters(monkeypatch):
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)
    frozen().summary()
    out.flush()
    assert out.buffer.getvalue().decode("ascii") == EXPECTED["ascii"]
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", out)
    long_names().summary()  # the ellipsis is not ASCII either (Keras fails to print it)
    out.flush()
    assert "| a_really_really_long_layer_nam~ |" in out.buffer.getvalue().decode("ascii")


@pytest.mark.parametrize("kwargs, message", [
    ({"layer_range": ["nope", "top"]},
     "Passed layer_names do not match the layer names in the model. Received: ['nope', 'top']"),
    ({"layer_range": ["x"]}, "layer_range must be a list or tuple of length 2. Received: layer_range = ['x'] of length 1"),
    ({"layer_range": [1, 2]}, "layer_range should contain string type only. Received: [1, 2]"),
    ({"line_length": 10}, "Insufficient console width to print summary."),
])
def test_errors_as_keras(kwargs, message):
    with pytest.raises(ValueError) as info:
        frozen().summary(print_fn=lambda x: None, **kwargs)
    assert str(info.value) == message
