"""A custom layer or model without get_config saves its constructor arguments (as Keras 3 does).

lamina records the arguments ``__init__`` received (``lamina/layers/_init_args.py``); the default
``get_config`` returns them when they are basic values, and raises ``NotImplementedError`` (at save time,
before anything is written) when some are not.
"""

import copy
import json
import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers


@lamina.saving.register_keras_serializable(package="auto_config")
class Scale(layers.Layer):
    def __init__(self, factor, offsets=(0.0,), mode="mul", **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.offsets = offsets
        self.mode = mode

    def call(self, x):
        return x * self.factor + self.offsets[0]


class NoKwargs(layers.Layer):
    def __init__(self, a, b=2):
        super().__init__()
        self.a, self.b = a, b

    def call(self, x):
        return x


class Holds(layers.Layer):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def call(self, x):
        return self.inner(x)


@lamina.saving.register_keras_serializable(package="auto_config")
class Units(lamina.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = layers.Dense(units)

    def call(self, x):
        return self.dense(x)


@lamina.saving.register_keras_serializable(package="auto_config")
class NoArgs(lamina.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x)


class Pair(lamina.Model):  # keras.io's VAE: the encoder and decoder are constructor arguments
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder

    def call(self, x):
        return self.decoder(self.encoder(x))


def test_the_user_trial_model_saves_and_loads(tmp_path):
    inputs = lamina.Input((2,))
    model = lamina.Model(inputs, Scale(3.0)(inputs))
    model.save(tmp_path / "s.keras")
    loaded = lamina.models.load_model(tmp_path / "s.keras")
    assert loaded.layers[1].factor == 3.0
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2)), verbose=0), [[3.0, 3.0]])
    with zipfile.ZipFile(tmp_path / "s.keras") as zf:
        entry = json.loads(zf.read("config.json"))["config"]["layers"][1]
    assert entry["registered_name"] == "auto_config>Scale"
    assert entry["config"]["factor"] == 3.0 and entry["config"]["mode"] == "mul"


def test_positional_arguments_are_bound_to_their_names_with_defaults():
    config = Scale(2, [1.0, 2.0], name="s").get_config()
    assert {k: config[k] for k in ("name", "factor", "offsets", "mode")} == \
        {"name": "s", "factor": 2, "offsets": [1.0, 2.0], "mode": "mul"}
    assert config["trainable"] is True and "dtype" in config
    assert Scale.from_config(config).offsets == [1.0, 2.0]


def test_arguments_are_copied_when_recorded():
    offsets = [1.0, {"a": (2, 3)}]
    layer = Scale(1.0, offsets)
    offsets.append("later")
    assert layer.get_config()["offsets"] == [1.0, {"a": (2, 3)}]


def test_current_base_settings_win():
    layer = Scale(1.0, trainable=True)
    layer.trainable = False
    assert layer.get_config()["trainable"] is False


def test_init_without_kwargs_gets_only_what_it_takes():
    config = NoKwargs(1).get_config()
    assert config == {"a": 1, "b": 2}
    assert NoKwargs.from_config(config).a == 1


def test_arguments_the_base_layer_serializes_do_not_block():
    layer = Scale(2.0, dtype=lamina.dtype_policies.DTypePolicy("mixed_float16"),
                  activity_regularizer=lamina.regularizers.L2(0.1), input_shape=(3,))
    config = layer.get_config()
    assert "mixed_float16" in json.dumps(config["dtype"])
    assert config["activity_regularizer"]["class_name"] == "L2"
    assert config["batch_input_shape"] == [None, 3] and "input_shape" not in config
    assert Scale.from_config(config).factor == 2.0


@pytest.mark.parametrize("argument", [layers.Dense(2), np.ones(2), (lambda x: x)], ids=["layer", "array", "function"])
def test_arguments_that_are_not_basic_values_are_refused_at_get_config(argument):
    layer = Holds(argument, name="holder")
    with pytest.raises(NotImplementedError, match=r"layer 'holder' \(Holds\).*inner=.*get_config\(\)"):
        layer.get_config()


def test_save_refuses_before_writing_anything(tmp_path):
    inputs = lamina.Input((2,))
    model = lamina.Model(inputs, Holds(layers.Dense(2), name="holder")(inputs))
    with pytest.raises(NotImplementedError, match=r"holder.*inner=Dense"):
        model.save(tmp_path / "new.keras")
    assert not os.path.exists(tmp_path / "new.keras")
    (tmp_path / "old.keras").write_bytes(b"previous")
    with pytest.raises(NotImplementedError):
        model.save(tmp_path / "old.keras")
    assert (tmp_path / "old.keras").read_bytes() == b"previous"


def test_variadic_and_positional_only_arguments_are_refused():
    class Variadic(layers.Layer):
        def __init__(self, *sizes, **kwargs):
            super().__init__(**kwargs)
            self.sizes = sizes

    class PositionalOnly(layers.Layer):
        def __init__(self, size, /, **kwargs):
            super().__init__(**kwargs)

    with pytest.raises(NotImplementedError, match=r"variadic positional arguments \(\*sizes\)"):
        Variadic(1, 2).get_config()
    assert "sizes" not in Variadic().get_config()  # no extra arguments: nothing to lose
    with pytest.raises(NotImplementedError, match=r"positional-only parameters \['size'\]"):
        PositionalOnly(3).get_config()


def test_subclassed_model_records_the_values_it_received(tmp_path):
    model = Units(7, name="units")
    model(np.ones((1, 2), "float32"))
    assert model.get_config() == {"name": "units", "units": 7, "trainable": True}
    model.save(tmp_path / "u.keras")
    loaded = lamina.models.load_model(tmp_path / "u.keras")
    assert type(loaded) is Units and loaded.units == 7
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2)), verbose=0), model.predict(np.ones((1, 2)), verbose=0))


def test_subclassed_model_without_arguments_saves_and_loads(tmp_path):
    model = NoArgs()
    model(np.ones((1, 3), "float32"))
    assert model.get_config() == {}
    model.save(tmp_path / "n.keras")
    assert type(lamina.models.load_model(tmp_path / "n.keras")) is NoArgs


def test_subclassed_model_with_layer_arguments_needs_get_config(tmp_path):
    model = Pair(layers.Dense(2), layers.Dense(2), name="pair")
    model(np.ones((1, 2), "float32"))
    with pytest.raises(NotImplementedError, match=r"model 'pair' \(Pair\).*encoder=Dense, decoder=Dense"):
        model.save(tmp_path / "p.keras")
    assert not os.path.exists(tmp_path / "p.keras")
    model.save_weights(tmp_path / "p.weights.h5")  # weights alone need no config
    assert os.path.exists(tmp_path / "p.weights.h5")


def test_own_get_config_is_used_as_written():
    class Own(layers.Layer):
        def __init__(self, inner, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    config = Own(layers.Dense(1), 5, name="own").get_config()
    assert config["units"] == 5 and "inner" not in config  # super() gives the base settings only


def test_builtin_layers_record_nothing_and_keep_their_config():
    dense = layers.Dense(3, name="d")
    assert "_init_args" not in vars(dense)
    assert set(dense.get_config()) == {"name", "trainable", "dtype", "units", "activation", "use_bias",
                                       "kernel_initializer", "bias_initializer", "kernel_regularizer",
                                       "bias_regularizer", "kernel_constraint", "bias_constraint"}
    add = layers.Add(name="a")
    assert add.get_config() == {"name": "a", "trainable": True, "dtype": add.get_config()["dtype"]}


def test_copies_keep_the_recorded_arguments():
    layer = Scale(4.0, name="s4")
    assert copy.deepcopy(layer).get_config()["factor"] == 4.0
