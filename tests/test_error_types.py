"""Errors Keras code catches as ValueError (an unknown constructor argument, fit before compile) are also the
TypeError/RuntimeError Python habits and lamina's earlier releases catch."""

import numpy as np
import pytest

import lamina


@pytest.mark.parametrize("make", [lambda: lamina.layers.Dense(3, units_typo=1),
                                  lambda: lamina.optimizers.Adam(learnig_rate=0.1)])
def test_unknown_constructor_argument_is_a_value_error_and_a_type_error(make):
    for kind in (ValueError, TypeError):
        with pytest.raises(kind, match=r"unexpected keyword argument\(s\) \['(units_typo|learnig_rate)'\]"):
            make()


@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch"])
def test_training_before_compile_is_a_value_error_and_a_runtime_error(method):
    model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    for kind in (ValueError, RuntimeError):
        with pytest.raises(kind, match=rf"You must call compile\(\) on model '{model.name}' before {method}\(\)"):
            getattr(model, method)(x, y, verbose=0) if method != "train_on_batch" else model.train_on_batch(x, y)
