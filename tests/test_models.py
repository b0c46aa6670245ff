"""Sequential, Functional and subclassed models: building, calling, layers, summary."""

import numpy as np
import pytest

import lamina
from lamina import layers, ops


def _np(x):
    return ops.convert_to_numpy(x)


def test_sequential_built_eagerly_from_input_dim():
    model = lamina.Sequential()
    model.add(layers.Dense(64, activation="relu", input_dim=100))
    model.add(layers.Dense(10, activation="softmax"))
    assert model.built and model.input_shape == (None, 100) and model.output_shape == (None, 10)
    assert model.count_params() == 100 * 64 + 64 + 64 * 10 + 10
    assert [l.name for l in model.layers] == ["dense", "dense_1"]


def test_sequential_built_lazily_on_first_call():
    model = lamina.Sequential([layers.Dense(4), layers.Dense(2)])
    assert not model.built
    out = model(np.ones((3, 5), "float32"))
    assert ops.shape(out) == (3, 2) and model.built and model.output_shape == (None, 2)


def test_sequential_pop_and_errors():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4), layers.Dense(2)])
    popped = model.pop()
    assert popped.units == 2 and model.output_shape == (None, 4)
    with pytest.raises(TypeError, match="Layer instance"):
        model.add("dense")
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(1, name=model.layers[0].name))


def test_functional_two_inputs_shared_dense_two_outputs():
    a = lamina.Input((3,), name="a")
    b = lamina.Input((3,), name="b")
    shared = layers.Dense(4, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)
    out1 = layers.Dense(1, name="out1")(ha)
    out2 = layers.Dense(2, name="out2")(layers.Dense(4)(hb) + ha)
    model = lamina.Model(inputs=[a, b], outputs=[out1, out2])
    xa = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    xb = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    y1, y2 = model([xa, xb])
    k, bias = shared.get_weights()
    ha_np = np.maximum(xa @ k + bias, 0)
    k1, b1 = model.get_layer("out1").get_weights()
    np.testing.assert_allclose(_np(y1), ha_np @ k1 + b1, rtol=1e-5, atol=1e-5)
    assert ops.shape(y2) == (5, 2)
    # dict inputs by name
    y1d, _ = model({"a": xa, "b": xb})
    np.testing.assert_allclose(_np(y1d), _np(y1))
    assert [l.name for l in model.layers][:3] == ["a", "b", "shared"]  # Keras order (by depth)


def test_functional_dict_inputs_and_outputs():
    x = lamina.Input((2,), name="x")
    model = lamina.Model({"x": x}, {"double": layers.Lambda(lambda t: t * 2)(x), "same": x + 0.0})
    out = model({"x": np.ones((1, 2), "float32")})
    assert sorted(out) == ["double", "same"]
    np.testing.assert_allclose(_np(out["double"]), [[2.0, 2.0]])
    with pytest.raises(ValueError, match="missing the key"):
        model({"y": np.ones((1, 2))})


def test_nested_models():
    inner_in = lamina.Input((4,))
    inner = lamina.Model(inner_in, layers.Dense(3)(inner_in), name="inner")
    x = lamina.Input((4,))
    outer = lamina.Model(x, layers.Dense(1)(inner(x)))
    assert outer.count_params() == 4 * 3 + 3 + 3 + 1
    assert ops.shape(outer(np.ones((2, 4), "float32"))) == (2, 1)
    seq = lamina.Sequential([lamina.Input((4,)), inner, layers.Dense(2)])
    assert seq.output_shape == (None, 2)


def test_subclassed_model():
    class MLP(lamina.Model):
        def __init__(self):
            super().__init__(name="mlp")
            self.h = layers.Dense(8, activation="relu")
            self.o = layers.Dense(2)

        def call(self, x, training=False):
            return self.o(self.h(x))

    m = MLP()
    assert ops.shape(m(np.ones((3, 5), "float32"))) == (3, 2)
    assert len(m.trainable_weights) == 4 and m.layers == [m.h, m.o]
    m2 = MLP()
    m2.build((None, 5))
    assert m2.built and m2.count_params() == 5 * 8 + 8 + 8 * 2 + 2


def test_a_model_can_start_from_tensors_inside_another_graph(tmp_path):
    # Keras's FeatureSpace tutorial: Model(encoded_features, head(encoded_features)).
    raw = lamina.Input((3,), name="raw")
    encoded = layers.Dense(4, name="enc")(raw)
    mid = layers.Dense(3, name="mid")
    out = layers.Dense(2, name="head")(mid(encoded))
    head = lamina.Model(encoded, out)
    assert [l.name for l in head.layers] == ["enc_output", "mid", "head"]
    assert head.inputs[0].shape == (None, 4) and isinstance(head.layers[0], layers.InputLayer)
    z = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    expected = ops.convert_to_numpy(head.get_layer("head")(mid(ops.convert_to_tensor(z))))
    np.testing.assert_allclose(ops.convert_to_numpy(head(z)), expected, rtol=1e-6)
    full = lamina.Model(raw, out)  # the layers are shared: the whole graph still runs from raw
    assert [l.name for l in full.layers] == ["raw", "enc", "mid", "head"]
    lines = []
    head.summary(print_fn=lines.append)  # a chain in this model (the other model's calls do not count)
    assert "Connected to" not in "\n".join(lines) and any("enc_output (InputLayer)" in l for l in lines)
    head.compile("sgd", "mse")
    head.fit(z, np.zeros((5, 2)), verbose=0)
    head.save(tmp_path / "head.keras")
    back = lamina.saving.load_model(tmp_path / "head.keras")
    np.testing.assert_allclose(back.predict(z, verbose=0), head.predict(z, verbose=0), rtol=1e-6)


def test_model_errors():
    x = lamina.Input((3,))
    with pytest.raises(ValueError, match=r"depend on the input '.*', which is not in `inputs=`"):
        lamina.Model(layers.Dense(2)(x), layers.Dense(1)(x))  # the outputs do not come from the inputs given
    other = lamina.Input((3,))
    with pytest.raises(ValueError, match="not in `inputs=`"):
        lamina.Model(x, layers.Dense(1)(x) + layers.Dense(1)(other))
    model = lamina.Model(x, layers.Dense(1)(x))
    with pytest.raises(ValueError, match=r"Invalid input shape.*\(None, 3\).*\(2, 3, 4\)"):
        model(np.ones((2, 3, 4), "float32"))
    # as in Keras, a trailing axis of size 1 is dropped (or added) to match the Input
    assert ops.shape(model(np.ones((2, 3, 1), "float32"))) == (2, 1)
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")


def test_summary_sequential_layout(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras's default width depends on the terminal's
    model = lamina.Sequential([lamina.Input((100,)), layers.Dense(64, activation="relu"),
                               layers.Dense(10, activation="softmax")], name="sequential")
    calls = []
    model.summary(print_fn=calls.append)
    assert len(calls) == 1 and calls[0].endswith("\n")  # as Keras: the whole text in one call
    text = calls[0]
    lines = text.splitlines()
    assert lines[0] == 'Model: "sequential"'
    assert lines[1] == "┏" + "━" * 33 + "┳" + "━" * 24 + "┳" + "━" * 15 + "┓"
    assert lines[2] == "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃"
    assert "│ dense (Dense)                   │ (None, 64)             │         6,464 │" in lines
    assert " Total params: 7,114 (27.79 KB)" in lines
    assert " Trainable params: 7,114 (27.79 KB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines
    assert "dense_1 (Dense)" in text


def test_summary_functional_has_connected_to_column(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    a = lamina.Input((3,), name="a")
    b = lamina.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = lamina.Model([a, b], [shared(a), shared(b)], name="two_towers")
    calls = []
    model.summary(print_fn=calls.append)
    lines = "".join(calls).splitlines()
    assert "Connected to" in lines[2]
    row = next(l for l in lines if "shared (Dense)" in l)
    assert "a[0][0], b[0][0]" in row and "8" in row


def test_get_layer_by_index():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="first")])
    assert model.get_layer(index=0).name == "first"


def test_functional_config_round_trip_with_shared_layer_and_ops():
    a = lamina.Input((3,), name="a")
    b = lamina.Input((3,), name="b")
    shared = layers.Dense(4, activation="relu", name="shared")
    s_a, s_b = shared(a), shared(b)
    merged = ops.concatenate([s_a, s_b * 2.0], axis=-1)
    out = layers.Dense(1, name="head")(merged)
    model = lamina.Model([a, b], [out, s_b], name="graph")
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert [l["name"] for l in config["layers"]][:3] == ["a", "b", "shared"]
    shared_cfg = next(l for l in config["layers"] if l["name"] == "shared")
    assert len(shared_cfg["inbound_nodes"]) == 2
    clone = lamina.Model.from_config(config)
    assert clone.name == "graph" and [l.name for l in clone.layers] == [l.name for l in model.layers]
    clone.set_weights(model.get_weights())
    x = [np.ones((2, 3), "float32"), np.arange(6, dtype="float32").reshape(2, 3)]
    for got, want in zip(clone(x), model(x)):
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6)


def test_sequential_config_json_and_clone():
    model = lamina.Sequential([lamina.Input((5,)), layers.Dense(3, activation="relu"), layers.Dropout(0.2),
                               layers.Dense(1)], name="seq")
    restored = lamina.models.model_from_json(model.to_json())
    assert restored.name == "seq" and restored.output_shape == (None, 1)
    assert [type(l).__name__ for l in restored.layers] == ["Dense", "Dropout", "Dense"]
    clone = lamina.models.clone_model(model)
    assert clone.count_params() == model.count_params()
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])


def test_unknown_class_in_config_is_refused_with_hint():
    config = {"class_name": "EvilLayer", "config": {}, "module": "os"}
    with pytest.raises(ValueError, match="register_serializable"):
        lamina.saving.deserialize_object(config)


def test_masks_propagate_through_functional_and_sequential():
    seen = []

    class MaskProbe(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.supports_masking = True

        def call(self, x, mask=None):
            seen.append(mask)  # symbolic while the model is built (a traced mask), concrete when it runs
            return x

    x = np.array([[[1.0], [0.0], [2.0]]], "float32")
    inp = lamina.Input((3, 1))
    model = lamina.Model(inp, MaskProbe()(layers.Dense(1, kernel_initializer="ones")(layers.Masking(0.0)(inp))))
    model(x)
    assert ops.convert_to_numpy(seen[-1]).tolist() == [[True, False, True]]
    seq = lamina.Sequential([layers.Masking(0.0), layers.Dense(1, kernel_initializer="ones"), MaskProbe()])
    seq(x)
    assert ops.convert_to_numpy(seen[-1]).tolist() == [[True, False, True]]


def test_functional_layers_are_listed_in_keras_order():
    # Keras 3 lists a functional model's layers by decreasing depth, ties by the order a walk back
    # from the outputs first meets them; its weight files key layers by that order. The expected
    # lists are what Keras 3.15 prints for these graphs.
    a, b, c = lamina.Input((3,), name="a"), lamina.Input((3,), name="b"), lamina.Input((3,), name="c")
    shared = layers.Dense(4, name="shared")
    ha, hb = shared(a), shared(b)
    x = layers.Dense(4, name="x2")(layers.Dense(4, name="x1")(c))
    z = layers.Add(name="add")([x, layers.Dense(4, name="y1")(ha), hb])
    model = lamina.Model([a, b, c], [layers.Dense(1, name="out1")(ha), layers.Dense(2, name="out2")(
        layers.Dense(4, name="d4")(z))])
    assert [l.name for l in model.layers] == ["a", "c", "shared", "x1", "b", "x2", "y1", "add", "d4",
                                              "out1", "out2"]
    x = lamina.Input((4,), name="x")
    unused = lamina.Input((2,), name="unused")
    model = lamina.Model([x, unused], layers.Dense(1, name="o")(layers.Dense(3, name="h")(x)))
    assert [l.name for l in model.layers] == ["x", "h", "unused", "o"]


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_deepcopy_gives_an_independent_model_that_runs_and_trains(kind):
    import copy

    if kind == "functional":
        inp = lamina.Input((4,))
        h = layers.Dense(3, activation="relu")(inp)
        model = lamina.Model(inp, layers.Dense(2)(layers.Concatenate()([h, inp])))
    else:
        model = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    x = np.random.RandomState(0).normal(size=(8, 4)).astype("float32")
    before = _np(model(x))
    clone = copy.deepcopy(model)
    np.testing.assert_allclose(_np(clone(x)), before, rtol=1e-6)
    clone.compile(optimizer="sgd", loss="mse")
    clone.fit(x, np.zeros((8, 2), "float32"), epochs=2, verbose=0)
    np.testing.assert_allclose(_np(model(x)), before, rtol=1e-6)  # the original is untouched
    assert not np.allclose(_np(clone(x)), before)


class _TimesTwo(lamina.layers.Layer):  # a custom layer known only through custom_objects
    def call(self, x):
        return x * 2


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_model_from_json_takes_custom_objects(kind):
    if kind == "functional":
        inp = lamina.Input((3,))
        model = lamina.Model(inp, _TimesTwo()(inp))
    else:
        model = lamina.Sequential([lamina.Input((3,)), _TimesTwo()])
    text = model.to_json()
    with pytest.raises(ValueError, match="Could not find class '_TimesTwo'"):
        lamina.models.model_from_json(text)
    restored = lamina.models.model_from_json(text, custom_objects={"_TimesTwo": _TimesTwo})
    assert isinstance(restored.layers[-1], _TimesTwo)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(lamina.ops.convert_to_numpy(restored(x)), x * 2)
    config = lamina.saving.serialize_keras_object(model)
    again = lamina.saving.deserialize_keras_object(config, custom_objects={"_TimesTwo": _TimesTwo})
    assert isinstance(again.layers[-1], _TimesTwo)


def test_a_single_input_wrapped_in_a_list_is_the_input():
    # older tutorials pass [x]; Keras accepts it for a one-input model
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 4)).astype("float32"), rng.integers(0, 3, 10)

    def model():
        lamina.utils.set_random_seed(2)
        m = lamina.Sequential([lamina.Input((4,)), layers.Dense(3, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return m

    plain, wrapped = model(), model()
    expected = plain.predict(x, verbose=0)
    for got in (wrapped.predict([x], verbose=0), wrapped.predict((x,), verbose=0), wrapped.predict_on_batch([x]),
                ops.convert_to_numpy(wrapped([x]))):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    h_plain = plain.fit(x, y, epochs=2, shuffle=False, verbose=0).history["loss"]
    h_wrapped = wrapped.fit([x], y, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(h_wrapped, h_plain, rtol=1e-6)


def test_a_list_for_dict_inputs_is_taken_in_sorted_key_order_with_a_warning():
    a, b = lamina.Input((2,), name="a"), lamina.Input((3,), name="b")
    model = lamina.Model({"b": b, "a": a}, layers.Dense(1)(layers.Concatenate()([a, b])))
    rng = np.random.default_rng(1)
    xa, xb = rng.random((6, 2)).astype("float32"), rng.random((6, 3)).astype("float32")
    with pytest.warns(UserWarning, match=r"sorted keys \['a', 'b'\]"):
        by_list = model.predict([xa, xb], verbose=0)
    np.testing.assert_allclose(by_list, model.predict({"a": xa, "b": xb}, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="expects a dict of inputs"):
        model.predict([xa], verbose=0)


def test_output_names_as_keras_lists_them():
    inp = lamina.Input((3,))
    reg, cls = layers.Dense(1, name="reg")(inp), layers.Dense(2, name="cls")(inp)
    assert lamina.Model(inp, [reg, cls]).output_names == ["reg", "cls"]
    assert lamina.Model(inp, {"reg": reg, "cls": cls}).output_names == ["cls", "reg"]  # a dict's keys, sorted
    assert lamina.Sequential([lamina.Input((3,)), layers.Dense(2, name="last")]).output_names == ["last"]


def test_inputs_are_converted_to_the_input_dtype_as_keras_does():
    # uint8 images given to a float32 Input are float32 inside (no uint8 overflow in a Lambda's arithmetic)
    img = np.full((2, 4, 4, 3), 200, dtype="uint8")
    for model in (lamina.Model(inp := lamina.Input((4, 4, 3)), layers.Lambda(lambda t: t * 2)(inp)),
                  lamina.Sequential([lamina.Input((4, 4, 3)), layers.Lambda(lambda t: t * 2)])):
        out = model.predict(img, verbose=0)
        assert out.dtype == np.float32 and out.max() == 400.0
        assert ops.convert_to_numpy(model(img)).dtype == np.float32
    ints = lamina.Input((3,), dtype="int32")
    model = lamina.Model(ints, layers.Lambda(lambda t: t + 1)(ints))
    assert ops.convert_to_numpy(model(np.arange(6, dtype="int64").reshape(2, 3))).dtype == np.int32


def test_a_sequential_model_takes_nested_python_lists():
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2)])
    assert tuple(ops.shape(model([[1, 2, 3], [4, 5, 6]]))) == (2, 2)
    assert tuple(ops.shape(model([[1.0, 2, 3]]))) == (1, 2)
    assert model.predict([[1, 2, 3], [4, 5, 6]], verbose=0).shape == (2, 2)
