"""Keras 2's import paths (``from keras.layers.core import Dense``, ``from keras.utils.np_utils import
to_categorical``, ...), which tutorials still use and Keras 3 removed: each such module of lamina forwards the
names it held in tf.keras 2 to their current home."""

import importlib


def forwarding(module_name, home, names):
    """A module ``__getattr__`` that gives ``names`` from the module ``home`` (imported when first asked, so
    packages that lamina itself imports early do not import the rest of lamina)."""
    names = frozenset(names)

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(home), name)
        raise AttributeError(f"module '{module_name}' has no attribute '{name}'")

    return __getattr__, sorted(names)
