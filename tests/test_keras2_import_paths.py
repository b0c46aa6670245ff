"""Keras 2's import paths (``from keras.layers.core import Dense``, ``keras.utils.np_utils``, ...): every name
they held resolves to lamina's current object."""

import importlib

import pytest

import lamina

MODULES = ["lamina.layers.core", "lamina.layers.convolutional", "lamina.layers.recurrent", "lamina.layers.embeddings",
           "lamina.layers.merge", "lamina.layers.advanced_activations", "lamina.layers.noise", "lamina.layers.wrappers",
           "lamina.layers.convolutional_recurrent", "lamina.utils.np_utils", "lamina.utils.data_utils",
           "lamina.utils.generic_utils", "lamina.engine", "lamina.engine.topology", "lamina.engine.base_layer",
           "lamina.engine.training", "lamina.engine.input_layer", "lamina.engine.sequential",
           "lamina.engine.functional"]


@pytest.mark.parametrize("name", MODULES)
def test_every_forwarded_name_resolves(name):
    module = importlib.import_module(name)
    names = getattr(module, "_KERAS2_NAMES", None) or module.__all__
    assert names
    for attr in names:
        value = getattr(module, attr)
        home = lamina.layers if name.startswith("lamina.layers") else \
            lamina.utils if name.startswith("lamina.utils") else lamina
        assert value is getattr(home, attr), f"{name}.{attr}"
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'NoSuchThing'"):
        getattr(module, "NoSuchThing")


def test_a_keras2_tutorial_header_imports():
    from lamina.layers.convolutional import Conv2D, MaxPooling2D
    from lamina.layers.core import Activation, Dense, Dropout, Flatten
    from lamina.utils.np_utils import to_categorical

    model = lamina.models.Sequential([lamina.Input((8, 8, 1)), Conv2D(4, 3), Activation("relu"), MaxPooling2D(),
                                      Flatten(), Dropout(0.1), Dense(3)])
    assert model.output_shape == (None, 3) and to_categorical([2], 3).tolist() == [[0.0, 0.0, 1.0]]
