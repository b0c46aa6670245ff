"""Exporting int8-quantized models (model.quantize("int8")): every format runs and equals model.predict (#13)."""

import numpy as np
import pytest

import lamina
from lamina import layers
from test_export import FOREIGN, NATIVE, SUFFIX, _check_matches_predict, _randomize


def _models():
    return {
        "dense": (lamina.Sequential([lamina.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(3)]),
                  lambda rng: rng.uniform(-1, 1, (5, 6)).astype("float32")),
        "conv": (lamina.Sequential([lamina.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu"),
                                    layers.Flatten(), layers.Dense(3)]),
                 lambda rng: rng.uniform(-1, 1, (5, 8, 8, 2)).astype("float32")),
        "embedding": (lamina.Sequential([lamina.Input((7,), dtype="int32"), layers.Embedding(20, 4),
                                         layers.GlobalAveragePooling1D(), layers.Dense(2)]),
                      lambda rng: rng.integers(0, 20, (5, 7)).astype("int32")),
    }


@pytest.mark.parametrize("fmt", NATIVE)
@pytest.mark.parametrize("kind", ["dense", "conv", "embedding"])
def test_quantized_model_exports_and_matches_predict(kind, fmt, tmp_path):
    model, make_x = _models()[kind]
    _randomize(model)
    model.quantize("int8")
    path = tmp_path / f"{kind}{SUFFIX[fmt]}"
    model.export(path, format=fmt, verbose=False)
    _check_matches_predict(model, fmt, path, [make_x(np.random.default_rng(3))])


@pytest.mark.parametrize("fmt", FOREIGN)
def test_quantized_model_exports_through_the_other_engine(fmt, tmp_path):
    model, make_x = _models()["dense"]
    _randomize(model)
    model.quantize("int8")
    path = tmp_path / f"dense{SUFFIX[fmt]}"
    model.export(path, format=fmt, verbose=False)
    _check_matches_predict(model, fmt, path, [make_x(np.random.default_rng(4))])
