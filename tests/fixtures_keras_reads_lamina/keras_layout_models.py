"""Models built the same way by Keras 3 (make_fixtures.py) and by lamina (tests/test_saving_keras_layout.py).

Each builder takes the Keras-like module ``K`` (``keras`` or ``lamina``) and returns ``(model, x, y)``:
a compiled model and a batch it is trained on for one step before saving, so that the file holds the
optimizer's state too. Nothing here imports keras or lamina.
"""

import numpy as np


def _data(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype("float32") for s in shapes]


def functional_multi_io(K):
    L = K.layers
    a, b = K.Input((4,), name="a"), K.Input((3,), name="b")
    h = L.Dense(8, activation="relu", name="hidden")(L.Concatenate(name="cat")([a, b]))
    out1, out2 = L.Dense(2, name="out1")(h), L.Dense(1, activation="sigmoid", name="out2")(h)
    model = K.Model([a, b], [out1, out2], name="multi_io")
    model.compile(optimizer=K.optimizers.Adam(1e-3), loss=["mse", "binary_crossentropy"],
                  metrics=[["mae"], ["accuracy"]], loss_weights=[1.0, 0.5])
    xa, xb, y1 = _data((4, 4), (4, 3), (4, 2))
    return model, [xa, xb], [y1, (y1[:, :1] > 0).astype("float32")]


def nested_shared(K):
    L = K.layers
    inner_seq = K.Sequential([K.Input((6,)), L.Dense(5, activation="tanh", name="s1"), L.Dense(4, name="s2")],
                             name="inner_seq")
    i = K.Input((4,), name="inner_in")
    inner_fn = K.Model(i, L.Dense(3, name="f2")(L.Dense(4, name="f1")(i)), name="inner_fn")
    shared = L.Dense(4, name="shared")
    x = K.Input((6,), name="x")
    h = inner_seq(x)
    y = inner_fn(shared(shared(h)))
    model = K.Model(x, y, name="nested_shared")
    model.compile(optimizer=K.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    x_data, y_data = _data((4, 6), (4, 3))
    return model, x_data, y_data


def graph_ops(K):
    L, ops = K.layers, K.ops
    x = K.Input((6,), name="x")
    h = L.Dense(6, name="d1")(x)
    h = ops.relu(h + 1.0) * 2.0 - x
    h = ops.concatenate([h, ops.tanh(x)], axis=-1)                # (None, 12)
    h = ops.reshape(h, (-1, 3, 4))
    h = ops.mean(h, axis=1) + h[:, 0, :]                          # (None, 4)
    h = ops.stack([h, ops.square(h)], axis=1)                     # (None, 2, 4)
    h = ops.einsum("bij,bkj->bik", h, h)                          # (None, 2, 2)
    h = ops.take(ops.reshape(h, (-1, 4)), [0, 3], axis=1)         # (None, 2)
    out = L.Dense(2, name="d2")(ops.cast(h, "float32"))
    model = K.Model(x, out, name="graph_ops")
    model.compile(optimizer="rmsprop", loss="mse")
    x_data, y_data = _data((4, 6), (4, 2))
    return model, x_data, y_data


def layer_families(K):
    L = K.layers
    img = K.Input((8, 8, 3), name="img")
    h = L.Conv2D(4, 3, padding="same", name="conv")(img)
    h = L.BatchNormalization(name="bn")(h)
    h = L.DepthwiseConv2D(3, padding="same", name="dw")(L.MaxPooling2D(2, name="pool")(h))
    h = L.GlobalAveragePooling2D(name="gap")(h)
    seq = K.Input((5, 4), name="seq")
    s = L.LSTM(3, return_sequences=True, name="lstm")(L.SpatialDropout1D(0.1, name="sdrop")(seq))
    s = L.GRU(3, return_sequences=True, name="gru")(L.Cropping1D(1, name="crop")(s))
    a = L.MultiHeadAttention(2, 2, name="mha")(s, s)
    a = L.GroupQueryAttention(2, 2, 1, name="gqa")(a, a)
    a = L.GlobalAveragePooling1D(name="gap1")(L.LayerNormalization(name="ln")(a))
    h = L.Concatenate(name="cat")([h, a])
    h = L.ActivityRegularization(l2=1e-3, name="act_reg")(h)
    model = K.Model([img, seq], L.Dense(1, name="head")(h), name="layer_families")
    model.compile(optimizer=K.optimizers.Nadam(), loss="mse")
    xi, xs, y = _data((4, 8, 8, 3), (4, 5, 4), (4, 1))
    return model, [xi, xs], y


def schedule_and_functions(K):
    L = K.layers
    model = K.Sequential([K.Input((5,)), L.Dense(4, activation="relu", name="d1"), L.Dense(1, name="d2")],
                         name="schedule_and_functions")
    lr = K.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=10, decay_rate=0.9)
    model.compile(optimizer=K.optimizers.SGD(lr, momentum=0.8), loss=K.losses.Huber(delta=0.5),
                  metrics=[K.metrics.RootMeanSquaredError()])
    x_data, y_data = _data((4, 5), (4, 1))
    return model, x_data, y_data


def mixed_precision(K):
    """Under "mixed_float16", compile wraps the optimizer in a LossScaleOptimizer."""
    L = K.layers
    K.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = K.Sequential([K.Input((5,)), L.Dense(4, name="d1"), L.Dense(1, dtype="float32", name="d2")],
                             name="mixed_precision")
        model.compile(optimizer="adam", loss="mse")
    finally:
        K.mixed_precision.set_global_policy("float32")
    x_data, y_data = _data((4, 5), (4, 1))
    return model, x_data, y_data


def nested_called_twice(K):
    """A nested Functional model called twice (Keras counts its nodes in output_layers from 1)."""
    L = K.layers
    i = K.Input((3,), name="inner_in")
    inner = K.Model(i, L.Dense(3, name="inner_dense")(i), name="inner")
    x = K.Input((3,), name="x")
    model = K.Model(x, [inner(inner(x) * 2.0), inner(x)], name="nested_called_twice")
    model.compile(optimizer="adam", loss="mse")
    x_data, y1, y2 = _data((4, 3), (4, 3), (4, 3))
    return model, x_data, [y1, y2]


def subclassed_attributes(K):
    """A subclassed model whose attributes sort before and after its ``layers`` (Keras's file paths)."""

    class Attributes(K.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = K.layers.Dense(3)
            self.blocks = [K.layers.Dense(2), K.layers.Dense(2)]
            self.mlp = K.layers.Dense(2)
            self.zout = K.layers.Dense(1)

        def call(self, x):
            return self.zout(self.mlp(self.blocks[1](self.blocks[0](self.hidden(x)))))

    model = Attributes(name="subclassed_attributes")
    model.compile(optimizer="adam", loss="mse")
    x_data, y_data = _data((4, 2), (4, 1))
    return model, x_data, y_data


BUILDERS = [functional_multi_io, nested_shared, graph_ops, layer_families, schedule_and_functions, mixed_precision,
            nested_called_twice, subclassed_attributes]
