"""The Layer lifecycle: weights, tracking, build, input checks, config, stateless_call."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops


class Scale(layers.Layer):
    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, x, training=None):
        if training:
            self.count.assign(self.count.value + 1.0)
        return x * self.w.value * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_weights_are_created_on_first_call_and_tracked():
    layer = Scale(2.0)
    assert not layer.built and layer.weights == []
    out = layer(np.ones((3, 4), "float32"))
    assert layer.built
    np.testing.assert_allclose(ops.convert_to_numpy(out), 2 * np.ones((3, 4)))
    assert [w.path for w in layer.trainable_weights] == [f"{layer.name}/w"]
    assert [w.path for w in layer.non_trainable_weights] == [f"{layer.name}/count"]
    assert layer.count_params() == 5


def test_auto_names_are_unique():
    a, b = layers.Dense(1), layers.Dense(1)
    assert a.name == "dense" and b.name == "dense_1"


def test_trainable_flag_moves_weights():
    layer = layers.Dense(2)
    layer.build((None, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_nested_layers_in_lists_are_tracked():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.parts = [layers.Dense(3), layers.Dense(2)]

        def call(self, x):
            for p in self.parts:
                x = p(x)
            return x

    block = Block()
    block(np.ones((1, 4), "float32"))
    assert len(block.weights) == 4
    assert block.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_get_set_weights_round_trip_and_errors():
    layer = layers.Dense(2)
    layer.build((None, 3))
    ws = [np.full(w.shape, 0.5, "float32") for w in layer.weights]
    layer.set_weights(ws)
    np.testing.assert_allclose(layer.get_weights()[0], ws[0])
    with pytest.raises(ValueError, match="expected 2 weight arrays"):
        layer.set_weights(ws[:1])
    with pytest.raises(ValueError, match=r"has shape \(3, 2\).*\(2, 2\)"):
        layer.set_weights([np.zeros((2, 2)), ws[1]])


def test_input_spec_error_names_layer_expected_and_received():
    layer = layers.Dense(4, name="dense_in")
    layer(np.ones((2, 100), "float32"))
    with pytest.raises(ValueError) as err:
        layer(np.ones((32, 784), "float32"))
    msg = str(err.value)
    assert "dense_in" in msg and "100" in msg and "(32, 784)" in msg


def test_rank_error_on_dense():
    with pytest.raises(ValueError, match="min_ndim=2"):
        layers.Dense(3)(np.ones((3,), "float32"))


def test_bad_constructor_arguments_are_rejected():
    with pytest.raises(ValueError, match="units=0"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(3, unitz=4)


def test_forgot_super_init_is_explained():
    class Bad(layers.Layer):
        def __init__(self):
            self.inner = 1

        def call(self, x):
            return x

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Bad()(np.ones((1, 1)))


def test_config_round_trip_keeps_arguments():
    layer = Scale(3.0, name="s")
    clone = Scale.from_config(layer.get_config())
    assert clone.factor == 3.0 and clone.name == "s"


def test_stateless_call_does_not_mutate_and_returns_new_state():
    layer = Scale()
    x = np.ones((1, 2), "float32")
    layer(x)
    tv = [ops.full((2,), 3.0)]
    ntv = [ops.zeros(())]
    out, new_ntv = layer.stateless_call(tv, ntv, x, training=True)
    np.testing.assert_allclose(ops.convert_to_numpy(out), [[3.0, 3.0]])
    assert float(ops.convert_to_numpy(new_ntv[0])) == 1.0
    assert float(layer.count.numpy()) == 0.0
    np.testing.assert_allclose(layer.w.numpy(), [1.0, 1.0])


def test_training_flag_propagates_to_nested_layers():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.p = Probe()

        def call(self, x):
            return self.p(x)

    Outer()(np.ones((1, 1)), training=True)
    assert seen == [True]


def test_regularization_losses_and_activity_regularizer():
    layer = layers.Dense(2, kernel_initializer="ones", kernel_regularizer=lamina.regularizers.L2(0.1),
                         activity_regularizer=lamina.regularizers.L1(1.0), use_bias=False)
    out = layer(np.ones((2, 3), "float32"))
    losses = [float(ops.convert_to_numpy(l)) for l in layer.losses]
    # activity: sum|out| / batch = (2*2*3)/2 = 6 ; kernel: 0.1 * 6 = 0.6
    assert sorted(np.round(losses, 5).tolist()) == [0.6, 6.0]
    assert ops.shape(out) == (2, 2)


def test_keras2_add_weight_with_name_first():
    class Old(layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", shape=(input_shape[1], 1), initializer="uniform")

        def call(self, x):
            return ops.matmul(x, self.kernel.value)

    layer = Old()
    layer(np.ones((2, 4), "float32"))
    assert layer.kernel.name == "kernel" and layer.kernel.shape == (4, 1)
    assert np.abs(layer.kernel.numpy()).max() <= 0.05


def test_variable_basics():
    v = lamina.Variable(np.zeros((2, 2), "float32"), name="v")
    v.assign(np.ones((2, 2)))
    assert v.numpy().sum() == 4 and v.dtype == "float32" and v.trainable and v.role == "trainable"
    with pytest.raises(ValueError, match="Cannot assign a value of shape"):
        v.assign(np.ones((3,)))
    np.testing.assert_allclose(ops.convert_to_numpy(v + 1), 2 * np.ones((2, 2)))
    np.testing.assert_allclose(np.asarray(v), np.ones((2, 2)))


def test_get_weights_returns_copies_not_views():
    layer = layers.Dense(2, kernel_initializer="zeros")
    layer.build((None, 2))
    before = layer.get_weights()[0]
    layer.kernel.assign(np.ones((2, 2), "float32"))
    assert before.sum() == 0.0


def test_variable_does_not_share_memory_with_the_initial_array():
    arr = np.zeros((3,), "float32")
    v = lamina.Variable(arr)
    v.assign(np.ones((3,), "float32"))
    assert arr.sum() == 0.0


def test_read_only_and_reversed_arrays_convert():
    arr = np.arange(4, dtype="float32")[::-1]
    ro = np.arange(3, dtype="float32")
    ro.setflags(write=False)
    assert ops.convert_to_numpy(ops.add(arr, 0)).tolist() == [3.0, 2.0, 1.0, 0.0]
    assert ops.convert_to_numpy(ops.add(ro, 1)).tolist() == [1.0, 2.0, 3.0]
