"""Every public layer round-trips through a ``.keras`` file inside a model: same config, weights and outputs.

``SPECS`` holds, per exported layer class name, how to build one and what to feed it. An entry is either
``Spec(...)`` (the full round trip inside a Functional model, and a Sequential one for single-input layers) or
``ConfigOnly(reason, make)`` for a layer that cannot be exercised this way (the reason is documented), which
gets a config round trip (``get_config`` -> ``from_config`` -> ``get_config``, also through
``serialize_object``/``deserialize_object``). ``test_table_covers_every_layer`` fails when a layer is exported
without an entry, so a new layer cannot be forgotten.
"""

import dataclasses
import json
from typing import Callable

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.layers.layer import Layer
from lamina.saving import deserialize_object, serialize_object


@dataclasses.dataclass
class Spec:
    make: Callable                 # () -> a fresh layer
    shapes: tuple                  # one input shape (with batch) or a list of them for multi-input layers
    dtype: str = "float32"
    int_high: int = 5              # integer inputs are drawn from [0, int_high)
    sequential: bool = True        # also check a Sequential model (single-input layers only)
    positional: bool = False       # call as layer(a, b) (attention's query, value) instead of layer([a, b])


@dataclasses.dataclass
class ConfigOnly:
    reason: str
    make: Callable


S = Spec
IMG = (2, 6, 6, 3)
VOL = (2, 4, 4, 4, 2)
SEQ = (2, 6, 3)
VEC = (2, 4)
PAIR = [(2, 4), (2, 4)]
QV = [(2, 3, 4), (2, 5, 4)]


def cell_rnn(cell_factory):
    return lambda: layers.RNN(cell_factory(), return_sequences=True)


SPECS = {
    "Activation": S(lambda: layers.Activation("tanh"), VEC),
    "ActivityRegularization": S(lambda: layers.ActivityRegularization(l1=0.01, l2=0.02), VEC),
    "AdaptiveAveragePooling1D": S(lambda: layers.AdaptiveAveragePooling1D(2), SEQ),
    "AdaptiveAveragePooling2D": S(lambda: layers.AdaptiveAveragePooling2D((2, 3)), IMG),
    "AdaptiveAveragePooling3D": S(lambda: layers.AdaptiveAveragePooling3D(2), VOL),
    "AdaptiveMaxPooling1D": S(lambda: layers.AdaptiveMaxPooling1D(2), SEQ),
    "AdaptiveMaxPooling2D": S(lambda: layers.AdaptiveMaxPooling2D((2, 3)), IMG),
    "AdaptiveMaxPooling3D": S(lambda: layers.AdaptiveMaxPooling3D(2), VOL),
    "Add": S(lambda: layers.Add(), PAIR),
    "AdditiveAttention": S(lambda: layers.AdditiveAttention(), QV),
    "AlphaDropout": S(lambda: layers.AlphaDropout(0.3, seed=1), VEC),
    "Attention": S(lambda: layers.Attention(use_scale=True, score_mode="concat"), QV),
    "Average": S(lambda: layers.Average(), PAIR),
    "AveragePooling1D": S(lambda: layers.AveragePooling1D(2, padding="same"), SEQ),
    "AveragePooling2D": S(lambda: layers.AveragePooling2D(2), IMG),
    "AveragePooling3D": S(lambda: layers.AveragePooling3D(2), VOL),
    "BatchNormalization": S(lambda: layers.BatchNormalization(momentum=0.9), (2, 3, 4)),
    "Bidirectional": S(lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="concat"),
                       SEQ),
    "CategoryEncoding": S(lambda: layers.CategoryEncoding(num_tokens=6, output_mode="multi_hot"), (2, 3),
                          dtype="int32"),
    "CenterCrop": S(lambda: layers.CenterCrop(4, 3), IMG),
    "Concatenate": S(lambda: layers.Concatenate(axis=-1), PAIR),
    "Conv1D": S(lambda: layers.Conv1D(3, 2, activation="relu"), SEQ),
    "Conv1DTranspose": S(lambda: layers.Conv1DTranspose(3, 2, strides=2), SEQ),
    "Conv2D": S(lambda: layers.Conv2D(3, 2, padding="same"), IMG),
    "Conv2DTranspose": S(lambda: layers.Conv2DTranspose(3, 2, strides=2), IMG),
    "Conv3D": S(lambda: layers.Conv3D(2, 2), VOL),
    "Conv3DTranspose": S(lambda: layers.Conv3DTranspose(2, 2), VOL),
    "ConvLSTM1D": S(lambda: layers.ConvLSTM1D(2, 2), (2, 3, 6, 3)),
    "ConvLSTM2D": S(lambda: layers.ConvLSTM2D(2, 2, return_sequences=True), (2, 3, 5, 5, 2)),
    "ConvLSTM3D": S(lambda: layers.ConvLSTM3D(2, 2), (2, 2, 4, 4, 4, 1)),
    "Cropping1D": S(lambda: layers.Cropping1D(1), SEQ),
    "Cropping2D": S(lambda: layers.Cropping2D(((1, 0), (0, 2))), IMG),
    "Cropping3D": S(lambda: layers.Cropping3D(1), VOL),
    "Dense": S(lambda: layers.Dense(3, activation="relu", kernel_regularizer="l2"), VEC),
    "DepthwiseConv1D": S(lambda: layers.DepthwiseConv1D(2, depth_multiplier=2), SEQ),
    "DepthwiseConv2D": S(lambda: layers.DepthwiseConv2D(2), IMG),
    "Discretization": S(lambda: layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5]), VEC),
    "Dot": S(lambda: layers.Dot(axes=1, normalize=True), PAIR),
    "Dropout": S(lambda: layers.Dropout(0.4, seed=3), VEC),
    "ELU": S(lambda: layers.ELU(alpha=0.5), VEC),
    "EinsumDense": S(lambda: layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d"), (2, 3, 4)),
    "Embedding": S(lambda: layers.Embedding(7, 3), (2, 5), dtype="int32", int_high=7),
    "Flatten": S(lambda: layers.Flatten(), (2, 3, 4)),
    "GRU": S(lambda: layers.GRU(3, return_sequences=True), SEQ),
    "GRUCell": S(cell_rnn(lambda: layers.GRUCell(3)), SEQ),
    "GaussianDropout": S(lambda: layers.GaussianDropout(0.2, seed=2), VEC),
    "GaussianNoise": S(lambda: layers.GaussianNoise(0.3, seed=2), VEC),
    "GlobalAveragePooling1D": S(lambda: layers.GlobalAveragePooling1D(), SEQ),
    "GlobalAveragePooling2D": S(lambda: layers.GlobalAveragePooling2D(keepdims=True), IMG),
    "GlobalAveragePooling3D": S(lambda: layers.GlobalAveragePooling3D(), VOL),
    "GlobalMaxPooling1D": S(lambda: layers.GlobalMaxPooling1D(), SEQ),
    "GlobalMaxPooling2D": S(lambda: layers.GlobalMaxPooling2D(), IMG),
    "GlobalMaxPooling3D": S(lambda: layers.GlobalMaxPooling3D(), VOL),
    "GroupNormalization": S(lambda: layers.GroupNormalization(groups=2), (2, 3, 4)),
    "GroupQueryAttention": S(lambda: layers.GroupQueryAttention(head_dim=2, num_query_heads=2,
                                                                num_key_value_heads=1), QV, positional=True),
    "Hashing": S(lambda: layers.Hashing(num_bins=4), (2, 3), dtype="int32", int_high=100),
    "Identity": S(lambda: layers.Identity(), VEC),
    "InputLayer": S(lambda: layers.InputLayer(shape=(4,)), VEC),  # see _input_layer_model
    "IntegerLookup": S(lambda: layers.IntegerLookup(vocabulary=[1, 2, 3, 5]), (2, 3), dtype="int32", int_high=7),
    "LSTM": S(lambda: layers.LSTM(3), SEQ),
    "LSTMCell": S(cell_rnn(lambda: layers.LSTMCell(3)), SEQ),
    "Lambda": S(lambda: layers.Lambda(registered_double), VEC),
    "Layer": ConfigOnly("the abstract base class: it has no call() of its own, so it cannot be run in a model",
                        lambda: Layer(name="base")),
    "LayerNormalization": S(lambda: layers.LayerNormalization(epsilon=1e-4), (2, 3, 4)),
    "LeakyReLU": S(lambda: layers.LeakyReLU(negative_slope=0.2), VEC),
    "Masking": S(lambda: layers.Masking(mask_value=0.0), SEQ),
    "MaxPooling1D": S(lambda: layers.MaxPooling1D(2), SEQ),
    "MaxPooling2D": S(lambda: layers.MaxPooling2D(2, strides=1), IMG),
    "MaxPooling3D": S(lambda: layers.MaxPooling3D(2), VOL),
    "Maximum": S(lambda: layers.Maximum(), PAIR),
    "Minimum": S(lambda: layers.Minimum(), PAIR),
    "MultiHeadAttention": S(lambda: layers.MultiHeadAttention(num_heads=2, key_dim=3), QV, positional=True),
    "Multiply": S(lambda: layers.Multiply(), PAIR),
    "Normalization": S(lambda: layers.Normalization(axis=-1), VEC),
    "PReLU": S(lambda: layers.PReLU(), VEC),
    "Permute": S(lambda: layers.Permute((2, 1)), (2, 3, 4)),
    "RMSNormalization": S(lambda: layers.RMSNormalization(), (2, 3, 4)),
    "RNN": S(cell_rnn(lambda: layers.SimpleRNNCell(3)), SEQ),
    "RandomBrightness": S(lambda: layers.RandomBrightness(0.2, seed=1), IMG),
    "RandomContrast": S(lambda: layers.RandomContrast(0.2, seed=1), IMG),
    "RandomCrop": S(lambda: layers.RandomCrop(4, 4, seed=1), IMG),
    "RandomFlip": S(lambda: layers.RandomFlip("horizontal", seed=1), IMG),
    "RandomRotation": S(lambda: layers.RandomRotation(0.1, seed=1), IMG),
    "RandomTranslation": S(lambda: layers.RandomTranslation(0.1, 0.2, seed=1), IMG),
    "RandomZoom": S(lambda: layers.RandomZoom(0.1, seed=1), IMG),
    "ReLU": S(lambda: layers.ReLU(max_value=1.0), VEC),
    "RepeatVector": S(lambda: layers.RepeatVector(3), VEC),
    "Rescaling": S(lambda: layers.Rescaling(0.5, offset=0.25), IMG),
    "Reshape": S(lambda: layers.Reshape((2, 6)), (2, 3, 4)),
    "Resizing": S(lambda: layers.Resizing(4, 5), IMG),
    "SeparableConv1D": S(lambda: layers.SeparableConv1D(3, 2), SEQ),
    "SeparableConv2D": S(lambda: layers.SeparableConv2D(3, 2, depth_multiplier=2), IMG),
    "SimpleRNN": S(lambda: layers.SimpleRNN(3, go_backwards=True), SEQ),
    "SimpleRNNCell": S(cell_rnn(lambda: layers.SimpleRNNCell(3)), SEQ),
    "Softmax": S(lambda: layers.Softmax(axis=-1), VEC),
    "SpatialDropout1D": S(lambda: layers.SpatialDropout1D(0.3), SEQ),
    "SpatialDropout2D": S(lambda: layers.SpatialDropout2D(0.3), IMG),
    "SpatialDropout3D": S(lambda: layers.SpatialDropout3D(0.3), VOL),
    "StackedRNNCells": S(lambda: layers.RNN(layers.StackedRNNCells([layers.LSTMCell(3), layers.GRUCell(2)])), SEQ),
    "StringLookup": ConfigOnly("takes strings; lamina's models carry numeric tensors only, so it is used in a "
                               "tf.data/NumPy pipeline, not inside a saved model",
                               lambda: layers.StringLookup(vocabulary=["a", "b", "c"], num_oov_indices=1)),
    "Subtract": S(lambda: layers.Subtract(), PAIR),
    "TextVectorization": ConfigOnly("takes strings (see StringLookup)",
                                    lambda: layers.TextVectorization(max_tokens=10, output_sequence_length=4,
                                                                     vocabulary=["x", "y", "z"])),
    "TimeDistributed": S(lambda: layers.TimeDistributed(layers.Dense(3)), (2, 3, 4)),
    "UnitNormalization": S(lambda: layers.UnitNormalization(), VEC),
    "UpSampling1D": S(lambda: layers.UpSampling1D(2), SEQ),
    "UpSampling2D": S(lambda: layers.UpSampling2D(2, interpolation="bilinear"), IMG),
    "UpSampling3D": S(lambda: layers.UpSampling3D(2), VOL),
    "ZeroPadding1D": S(lambda: layers.ZeroPadding1D(2), SEQ),
    "ZeroPadding2D": S(lambda: layers.ZeroPadding2D(((1, 2), (0, 1))), IMG),
    "ZeroPadding3D": S(lambda: layers.ZeroPadding3D(1), VOL),
    # Wrappers and core layers added later
    "HashedCrossing": S(lambda: layers.HashedCrossing(num_bins=5, output_mode="one_hot"), [(2, 1), (2, 1)],
                        dtype="int32", int_high=50),
    "Pipeline": S(lambda: layers.Pipeline([layers.Rescaling(0.5), layers.Dense(3)]), VEC),
    "ReversibleEmbedding": S(lambda: layers.ReversibleEmbedding(7, 3, tie_weights=False), (2, 5), dtype="int32",
                             int_high=7),
    "SpectralNormalization": S(lambda: layers.SpectralNormalization(layers.Dense(3), power_iterations=2), VEC),
    "Wrapper": ConfigOnly("the abstract base class of layer wrappers: it has no call() of its own",
                          lambda: layers.Wrapper(layers.Dense(2))),
    # Image augmentation layers added later
    "AutoContrast": S(lambda: layers.AutoContrast(value_range=(0, 1)), IMG),
    "CutMix": S(lambda: layers.CutMix(factor=0.5, seed=1), IMG),
    "Equalization": S(lambda: layers.Equalization(bins=64), IMG),
    "MixUp": S(lambda: layers.MixUp(alpha=0.3, seed=1), IMG),
    "RandomColorDegeneration": S(lambda: layers.RandomColorDegeneration(0.3, seed=1), IMG),
    "RandomColorJitter": S(lambda: layers.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=1), IMG),
    "RandomErasing": S(lambda: layers.RandomErasing(factor=0.5, fill_value=0.0, seed=1), IMG),
    "RandomGaussianBlur": S(lambda: layers.RandomGaussianBlur(kernel_size=(3, 5), sigma=0.8, seed=1), IMG),
    "RandomGrayscale": S(lambda: layers.RandomGrayscale(0.3, seed=1), IMG),
    "RandomHue": S(lambda: layers.RandomHue(0.2, seed=1), IMG),
    "RandomInvert": S(lambda: layers.RandomInvert(0.5, value_range=(0, 1), seed=1), IMG),
    "RandomPosterization": S(lambda: layers.RandomPosterization((2, 6), seed=1), IMG),
    "RandomSaturation": S(lambda: layers.RandomSaturation((0.3, 0.7), seed=1), IMG),
    "RandomSharpness": S(lambda: layers.RandomSharpness(0.4, seed=1), IMG),
    "RandomShear": S(lambda: layers.RandomShear(x_factor=0.2, y_factor=(0.1, 0.3), seed=1), IMG),
    "Solarization": S(lambda: layers.Solarization(addition_factor=0.1, threshold_factor=0.5, seed=1), IMG),
    # Warping and policy augmentation, CLAHE, MaxNumBoundingBoxes (a plain image tensor passes through it)
    "AugMix": S(lambda: layers.AugMix(value_range=(-3, 3), chain_depth=2, seed=1), IMG),
    "ContrastLimitedAdaptiveHistogramEqualization": S(
        lambda: layers.ContrastLimitedAdaptiveHistogramEqualization(value_range=(-3, 3), tile_grid_size=(2, 3)), IMG),
    "MaxNumBoundingBoxes": S(lambda: layers.MaxNumBoundingBoxes(max_number=4, fill_value=-2), IMG),
    "RandAugment": S(lambda: layers.RandAugment(value_range=(-3, 3), num_ops=3, factor=0.4, seed=1), IMG),
    "RandomElasticTransform": S(lambda: layers.RandomElasticTransform(scale=0.5, fill_mode="nearest", seed=1), IMG),
    "RandomPerspective": S(lambda: layers.RandomPerspective(factor=0.7, scale=0.3, seed=1), IMG),
    # Audio preprocessing layers
    "MelSpectrogram": S(lambda: layers.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=8,
                                                      sampling_rate=8000), (2, 256)),
    "STFTSpectrogram": S(lambda: layers.STFTSpectrogram(mode="log", frame_length=8, frame_step=4,
                                                        padding="same"), (2, 16, 2)),
}


@lamina.saving.register_keras_serializable(package="every_layer")
def registered_double(x):
    return x * 2.0 + 1.0


# Layers that wrap one engine's code, with why they are not in the table (tested in their own files).
NOT_FROM_FILES = {
    "JaxLayer": "wraps a JAX function, so it exists on the JAX backend only; its save/load round trip (registered "
                "functions) is in tests/test_jax_layer.py",
    "TorchModuleWrapper": "wraps a torch.nn.Module, which is code: lamina never unpickles it, so only its weights "
                          "are saved and loaded (tests/test_torch_module_wrapper.py)",
}


def _exported_layers():
    """{name: class} of every Layer subclass exported by ``lamina.layers``; aliases map to one canonical name."""
    by_class = {}
    for name in dir(layers):
        value = getattr(layers, name)
        if name in NOT_FROM_FILES:
            assert len(NOT_FROM_FILES[name]) > 20
            continue
        if isinstance(value, type) and issubclass(value, Layer):
            by_class.setdefault(value, []).append(name)
    return by_class


def test_table_covers_every_layer():
    missing = []
    for cls, names in _exported_layers().items():
        covered = [n for n in names if n in SPECS]
        if len(covered) != 1:
            missing.append(f"{cls.__name__} (exported as {names}; entries {covered})")
    assert not missing, f"add exactly one SPECS entry (under any exported alias) for: {missing}"
    exported = {n for names in _exported_layers().values() for n in names}
    assert set(SPECS) <= exported, f"SPECS names layers lamina does not export: {set(SPECS) - exported}"


def test_table_entries_build_the_class_they_name():
    for name, spec in SPECS.items():
        layer = spec.make()
        cls = getattr(layers, name)
        inner = [layer] + [getattr(layer, a, None) for a in ("cell", "layer", "forward_layer")]
        inner += list(getattr(getattr(layer, "cell", None), "cells", []) or [])
        assert any(type(obj) is cls for obj in inner), f"SPECS['{name}'] builds {type(layer).__name__}"


def _inputs(spec, rng):
    shapes = spec.shapes if isinstance(spec.shapes, list) else [spec.shapes]
    data = []
    for shape in shapes:
        if spec.dtype.startswith("int"):
            data.append(rng.integers(0, spec.int_high, size=shape).astype(spec.dtype))
        else:
            data.append(rng.standard_normal(shape).astype(spec.dtype))
    return shapes, data


def _randomize_weights(model, rng):
    """Non-default values in every float weight (positive, so variances stay valid)."""
    new = []
    for w in model.get_weights():
        if np.issubdtype(w.dtype, np.floating):
            new.append(rng.uniform(0.2, 1.0, size=w.shape).astype(w.dtype))
        else:
            new.append(w)
    model.set_weights(new)


def _functional(spec):
    shapes, _ = _inputs(spec, np.random.default_rng(0))
    inputs = [lamina.Input(shape=s[1:], dtype=spec.dtype) for s in shapes]
    layer = spec.make()
    if isinstance(layer, layers.InputLayer):
        return lamina.Sequential([layer, layers.Dense(2)])
    out = layer(*inputs) if spec.positional else layer(inputs if len(inputs) > 1 else inputs[0])
    return lamina.Model(inputs, out)


def _sequential(spec):
    shape = spec.shapes
    return lamina.Sequential([lamina.Input(shape=shape[1:], dtype=spec.dtype), spec.make()])


def _numpy(out):
    if isinstance(out, (list, tuple)):
        return [ops.convert_to_numpy(o) for o in out]
    return [ops.convert_to_numpy(out)]


def _check_round_trip(model, data, path):
    rng = np.random.default_rng(1)
    _randomize_weights(model, rng)
    feed = data if len(data) > 1 else data[0]
    expected = _numpy(model(feed, training=False))
    model.save(path)
    loaded = lamina.models.load_model(path)
    assert json.dumps(loaded.get_config(), sort_keys=True) == json.dumps(model.get_config(), sort_keys=True)
    for a, b in zip(model.layers, loaded.layers):
        assert type(a) is type(b)
        assert a.get_config() == b.get_config(), f"layer '{a.name}' config changed"
    saved_w, loaded_w = model.get_weights(), loaded.get_weights()
    assert len(saved_w) == len(loaded_w)
    for a, b in zip(saved_w, loaded_w):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    got = _numpy(loaded(feed, training=False))
    assert len(got) == len(expected)
    for a, b in zip(expected, got):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    return loaded


FULL = sorted(n for n, s in SPECS.items() if isinstance(s, Spec))
CONFIG_ONLY = sorted(n for n, s in SPECS.items() if isinstance(s, ConfigOnly))


@pytest.mark.parametrize("name", FULL)
def test_functional_round_trip(name, tmp_path):
    spec = SPECS[name]
    _, data = _inputs(spec, np.random.default_rng(0))
    _check_round_trip(_functional(spec), data, tmp_path / f"{name}.keras")


@pytest.mark.parametrize("name", [n for n in FULL if SPECS[n].sequential and not isinstance(SPECS[n].shapes, list)
                                  and n != "InputLayer"])
def test_sequential_round_trip(name, tmp_path):
    spec = SPECS[name]
    _, data = _inputs(spec, np.random.default_rng(2))
    _check_round_trip(_sequential(spec), data, tmp_path / f"{name}_seq.keras")


@pytest.mark.parametrize("name", CONFIG_ONLY)
def test_config_only_round_trip(name):
    spec = SPECS[name]
    assert len(spec.reason) > 20
    layer = spec.make()
    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    again = deserialize_object(json.loads(json.dumps(serialize_object(layer))))
    assert type(again) is type(layer) and again.get_config() == config


# ---- Lambda: a registered function reloads by its name in safe mode; anything else is refused ----------------

def _unregistered_shift(x):
    return x - 1.0


def _lambda_model(fn, name="lam"):
    inp = lamina.Input((3,))
    return lamina.Model(inp, layers.Dense(2, name="d")(layers.Lambda(fn, name=name, output_shape=(3,))(inp)))


def test_lambda_config_names_the_registered_function():
    config = layers.Lambda(registered_double).get_config()
    assert config["function"]["class_name"] == "function"
    assert config["function"]["config"] == "every_layer>registered_double"
    clone = layers.Lambda.from_config(json.loads(json.dumps(config)))
    assert clone.function is registered_double


def test_registered_lambda_loads_in_safe_mode(tmp_path):
    model = _lambda_model(registered_double)
    x = np.arange(6, dtype="float32").reshape(2, 3)
    model.save(tmp_path / "reg.keras")
    loaded = lamina.models.load_model(tmp_path / "reg.keras")  # safe_mode=True
    assert loaded.get_layer("lam").function is registered_double
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)), rtol=1e-6)


def test_unregistered_lambda_is_refused_with_the_fix(tmp_path):
    model = _lambda_model(_unregistered_shift)
    model.save(tmp_path / "unreg.keras")
    with pytest.raises(ValueError, match=r"unreg\.keras.*Lambda layer \('lam'\).*register_serializable"):
        lamina.models.load_model(tmp_path / "unreg.keras")
    with pytest.raises(ValueError, match=r"unreg\.keras.*'_unregistered_shift'.*not a registered object"):
        lamina.models.load_model(tmp_path / "unreg.keras", safe_mode=False)
    # Passing the function in safe mode is not enough: only registered names load in safe mode.
    with pytest.raises(ValueError, match="Lambda layer"):
        lamina.models.load_model(tmp_path / "unreg.keras", custom_objects={"_unregistered_shift": _unregistered_shift})
    loaded = lamina.models.load_model(tmp_path / "unreg.keras", safe_mode=False,
                                      custom_objects={"_unregistered_shift": _unregistered_shift})
    assert loaded.get_layer("lam").function is _unregistered_shift


def test_python_lambda_is_refused(tmp_path):
    model = _lambda_model(lambda t: t * 3.0)
    model.save(tmp_path / "anon.keras")
    for safe in (True, False):
        with pytest.raises(ValueError, match=r"anon\.keras.*(Lambda layer|'<lambda>')"):
            lamina.models.load_model(tmp_path / "anon.keras", safe_mode=safe)


def test_lambda_from_config_refuses_bytecode_and_unknown_names():
    with pytest.raises(ValueError, match="bytecode.*never runs"):
        layers.Lambda.from_config({"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "x"}}})
    with pytest.raises(ValueError, match="'os.system'.*not a registered object"):
        layers.Lambda.from_config({"name": "l", "function": "os.system"})


@pytest.mark.filterwarnings("ignore:Saving to '.h5' writes the legacy Keras 2 HDF5 format")
@pytest.mark.parametrize("name", FULL)
def test_legacy_h5_round_trip(name, tmp_path):
    # the Keras 2 HDF5 layout of the tutorials' save_model(model, "m.h5"): config, weights and outputs survive
    spec = SPECS[name]
    _, data = _inputs(spec, np.random.default_rng(3))
    _check_round_trip(_functional(spec), data, tmp_path / f"{name}.h5")
