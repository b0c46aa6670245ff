"""Keras 2-era ``K.*`` functions that tutorials still call.

The config functions (``epsilon``, ``floatx``, ``clear_session`` ...) are current Keras API. The
others (``K.variable``, ``K.function``, ``K.set_value``, ``K.dot`` ...) were removed in Keras 3;
lamina keeps them working with Keras 2's semantics and warns once per function
(``DeprecationWarning``), naming the modern form. Tensor math is in ``legacy_math``, network,
loss, random and control-flow functions in ``legacy_nn``.

Not provided, because they only exist for TensorFlow 1 graphs: ``placeholder`` (use
``lamina.Input``), ``gradients`` (use ``lamina.ops``-based training steps or ``model.fit``),
``get_session``/``set_session`` (there is no session); see ``removed_attribute``.

Example:
>>> from lamina import backend as K
>>> K.epsilon()
1e-07
"""

import contextlib as _contextlib

import numpy as _np

from lamina.backend._legacy_util import as_tensor as _t
from lamina.backend._legacy_util import deprecated as _deprecated
from lamina.backend._legacy_util import ops as _ops
from lamina.config import (  # noqa: F401
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

_PHASE = {"value": 0}  # K.learning_phase(): 0 (test) unless set_learning_phase / learning_phase_scope


# -- variables and values ----------------------------------------------------------------------------------------
def _variable_class():
    from lamina.backend import Variable

    return Variable


def variable(value, dtype=None, name=None, constraint=None):
    """A trainable ``lamina.Variable`` holding ``value`` (``dtype`` defaults to ``floatx()``)."""
    _deprecated("variable", "lamina.Variable(value)")
    if hasattr(value, "numpy") and not isinstance(value, _np.ndarray):
        value = _ops().convert_to_numpy(value)
    v = _variable_class()(_np.asarray(value), dtype=dtype or floatx(), name=name)
    v.constraint = constraint
    return v


def constant(value, dtype=None, shape=None, name=None):
    """A tensor holding ``value`` (a scalar is broadcast to ``shape``); ``dtype`` defaults to ``floatx()``."""
    _deprecated("constant", "lamina.ops.convert_to_tensor(value, dtype)")
    arr = _np.asarray(value)
    if shape is not None:
        shape = tuple(shape)
        if arr.size == 1:
            arr = _np.full(shape, arr.reshape(()))
        elif arr.size == int(_np.prod(shape, dtype=_np.int64)):
            arr = arr.reshape(shape)
        else:
            raise ValueError(f"K.constant: a value with {arr.size} elements cannot fill shape {shape}.")
    return _ops().convert_to_tensor(arr, dtype=dtype or floatx())


def _filled(name, fill, shape, dtype, var_name):
    """A Variable of ``fill`` (as Keras 2); a plain tensor inside a layer's call or a traced step, where a new
    Variable per call would only cost time."""
    from lamina.backend.common.scopes import current_scope
    from lamina.layers.call_context import in_layer_call

    dtype = dtype or floatx()
    if current_scope() is not None or in_layer_call():
        return fill(tuple(shape), dtype=dtype)
    return _variable_class()(_ops().convert_to_numpy(fill(tuple(shape), dtype=dtype)), dtype=dtype, name=var_name)


def zeros(shape, dtype=None, name=None):
    """An all-zeros Variable of ``shape`` (Keras 2 returns a variable)."""
    _deprecated("zeros", "lamina.ops.zeros (a tensor) or lamina.Variable")
    return _filled("zeros", _ops().zeros, shape, dtype, name)


def ones(shape, dtype=None, name=None):
    """An all-ones Variable of ``shape``."""
    _deprecated("ones", "lamina.ops.ones (a tensor) or lamina.Variable")
    return _filled("ones", _ops().ones, shape, dtype, name)


def eye(size, dtype=None, name=None):
    """An identity-matrix Variable of ``size x size``."""
    _deprecated("eye", "lamina.ops.eye (a tensor) or lamina.Variable")
    return _filled("eye", lambda s, dtype: _ops().eye(s[0], dtype=dtype), (size,), dtype, name)


def zeros_like(x, dtype=None, name=None):
    """A tensor of zeros shaped like ``x`` (``dtype`` defaults to ``x``'s)."""
    _deprecated("zeros_like", "lamina.ops.zeros_like")
    return _ops().zeros_like(_t(x), dtype=dtype)


def ones_like(x, dtype=None, name=None):
    """A tensor of ones shaped like ``x`` (``dtype`` defaults to ``x``'s)."""
    _deprecated("ones_like", "lamina.ops.ones_like")
    return _ops().ones_like(_t(x), dtype=dtype)


def identity(x, name=None):
    """A tensor equal to ``x``."""
    _deprecated("identity", "lamina.ops.copy")
    return _ops().copy(_t(x))


def cast_to_floatx(x):
    """``x`` cast to ``floatx()``: a NumPy array for array-likes, a tensor for tensors."""
    _deprecated("cast_to_floatx", "lamina.ops.cast(x, lamina.config.floatx())")
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (_np.ndarray, _np.generic)):
        return _ops().cast(x, floatx())
    return _np.asarray(x, dtype=floatx())


def set_value(x, value):
    """Assign ``value`` to the variable ``x`` (Keras 2; use ``x.assign(value)``)."""
    _deprecated("set_value", "variable.assign(value)")
    if not hasattr(x, "assign"):
        raise TypeError(
            f"K.set_value expected a lamina Variable (e.g. optimizer.learning_rate), "
            f"but received {type(x).__name__}."
        )
    x.assign(value)


def get_value(x):
    """Return the value of ``x`` as NumPy (Keras 2; use ``lamina.ops.convert_to_numpy``)."""
    _deprecated("get_value", "lamina.ops.convert_to_numpy(x)")
    return _ops().convert_to_numpy(x)


def eval(x):  # noqa: A001
    """The value of ``x`` as a NumPy array (Keras 2's ``K.eval``)."""
    _deprecated("eval", "lamina.ops.convert_to_numpy(x)")
    return _ops().convert_to_numpy(x)


def batch_get_value(xs):
    """Return the values of ``xs`` as NumPy arrays (Keras 2)."""
    return [get_value(x) for x in xs]


def batch_set_value(pairs):
    """Assign each ``(variable, value)`` pair (Keras 2)."""
    for x, v in pairs:
        set_value(x, v)


def update(x, new_x):
    """``x.assign(new_x)``; returns ``x``."""
    _deprecated("update", "variable.assign(value)")
    x.assign(new_x)
    return x


def update_add(x, increment):
    """``x.assign_add(increment)``; returns ``x``."""
    _deprecated("update_add", "variable.assign_add(value)")
    x.assign_add(increment)
    return x


def update_sub(x, decrement):
    """``x.assign_sub(decrement)``; returns ``x``."""
    _deprecated("update_sub", "variable.assign_sub(value)")
    x.assign_sub(decrement)
    return x


def moving_average_update(x, value, momentum):
    """``x = x * momentum + value * (1 - momentum)``; returns ``x``."""
    _deprecated("moving_average_update", "variable.assign(variable * momentum + value * (1 - momentum))")
    x.assign_sub((_ops().convert_to_tensor(x) - value) * (1.0 - momentum))
    return x


# -- shapes and dtypes -------------------------------------------------------------------------------------------
def int_shape(x):
    """Return the shape of ``x`` as a tuple (Keras 2; use ``x.shape``)."""
    _deprecated("int_shape", "x.shape")
    return tuple(x.shape)


def shape(x):
    """The shape of ``x`` as a tuple (Keras 2 returned a tensor; ``K.shape(x)[0]`` works the same)."""
    _deprecated("shape", "lamina.ops.shape(x)")
    return _ops().shape(x)


def ndim(x):
    """Return the rank of ``x`` (Keras 2; use ``len(x.shape)``)."""
    _deprecated("ndim", "len(x.shape)")
    return len(x.shape)


def dtype(x):
    """The dtype of ``x`` as a string, e.g. ``"float32"``."""
    _deprecated("dtype", "lamina.backend.standardize_dtype(x.dtype)")
    from lamina.backend.common.dtypes import standardize_dtype

    return standardize_dtype(x.dtype)


def count_params(x):
    """The number of scalars in ``x``."""
    _deprecated("count_params", "int(numpy.prod(x.shape))")
    return int(_np.prod(tuple(x.shape), dtype=_np.int64))


def is_sparse(x):
    """Always False: lamina has no sparse tensors."""
    return False


def to_dense(x):
    """``x`` unchanged (lamina has no sparse tensors)."""
    return x


def stop_gradient(variables):
    """``variables`` (a tensor or a list) with no gradient flowing through."""
    _deprecated("stop_gradient", "lamina.ops.stop_gradient")
    if isinstance(variables, (list, tuple)):
        return [_ops().stop_gradient(v) for v in variables]
    return _ops().stop_gradient(variables)


# -- learning phase and K.function -------------------------------------------------------------------------------
def learning_phase():
    """0 (test) unless changed by ``set_learning_phase``; inside layers use the ``training`` argument."""
    _deprecated("learning_phase", "the `training` argument of call()")
    return _PHASE["value"]


def _check_phase(who, value):
    if value not in (0, 1) or isinstance(value, float):
        raise ValueError(f"K.{who} expected a learning phase of 0 (test) or 1 (train), but received {value!r}.")


def set_learning_phase(value):
    """Set the value ``K.learning_phase()`` returns (0 or 1)."""
    _deprecated("set_learning_phase", "the `training` argument of call()")
    _check_phase("set_learning_phase", value)
    _PHASE["value"] = int(value)


@_contextlib.contextmanager
def learning_phase_scope(value):
    """Within the block, ``K.learning_phase()`` returns ``value``."""
    _deprecated("learning_phase_scope", "the `training` argument of call()")
    _check_phase("learning_phase_scope", value)
    before = _PHASE["value"]
    _PHASE["value"] = int(value)
    try:
        yield
    finally:
        _PHASE["value"] = before


def function(inputs, outputs, updates=None, name=None, **kwargs):
    """A callable running the graph from ``inputs`` to ``outputs`` on NumPy values (Keras 2's ``K.function``).

    ``K.function([model.input], [model.layers[2].output])([x])`` returns a list of NumPy arrays (one per
    output; a single array when ``outputs`` is not a list). An input given as ``K.learning_phase()`` is the
    ``training`` flag: pass 0 or 1 in its place when calling.

    Raises:
        ValueError: for ``updates`` or TensorFlow session arguments (graph-mode only), or an input that is
            neither a symbolic tensor nor the learning phase.
    """
    _deprecated("function", "lamina.Model(inputs, outputs) called on the values")
    if kwargs:
        raise ValueError(f"K.function: TensorFlow session arguments are not supported; received {sorted(kwargs)}.")
    if updates:
        raise ValueError("K.function: `updates` are TensorFlow 1 graph operations and are not supported; "
                         "assign variables in your own code (variable.assign) instead.")
    import lamina
    from lamina.backend.common.keras_tensor import is_keras_tensor

    flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    graph_inputs, phase_slots = [], []
    for i, t in enumerate(flat):
        if is_keras_tensor(t):
            graph_inputs.append(t)
        elif isinstance(t, (bool, int, _np.integer)) and t in (0, 1):
            phase_slots.append(i)
        else:
            raise ValueError(f"K.function: input {i} must be a symbolic tensor (e.g. model.input) or "
                             f"K.learning_phase(), but received {type(t).__name__}.")
    model = lamina.Model(graph_inputs if len(graph_inputs) != 1 else graph_inputs[0], outputs)
    wrap = isinstance(outputs, list)

    def func(values):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if len(values) != len(flat):
            raise ValueError(f"K.function{' ' + name if name else ''}: expected {len(flat)} input values, "
                             f"but received {len(values)}.")
        training = bool(values[phase_slots[0]]) if phase_slots else False
        data = [v for i, v in enumerate(values) if i not in phase_slots]
        outs = model(data if len(data) != 1 else data[0], training=training)
        outs = [outs] if wrap and not isinstance(outs, (list, tuple)) else outs
        return lamina.tree.map_structure(lambda t: _ops().convert_to_numpy(t), outs)

    return func


def clear_session(free_memory=True):
    """Reset lamina's global state (name counters, the learning phase); as ``lamina.utils.clear_session``."""
    from lamina.utils import clear_session as _clear

    _PHASE["value"] = 0
    _clear(free_memory=free_memory)


def reset_uids():
    """Restart the automatic names (``dense``, ``dense_1`` ...); as Keras 2's ``K.reset_uids``."""
    from lamina.utils.naming import reset_uids as _reset

    _reset()


def name_scope(name):
    """A name scope for variables created inside (``lamina.name_scope``)."""
    from lamina.backend.common.name_scope import name_scope as _scope

    return _scope(name)


_REMOVED = {
    "placeholder": "lamina.Input(shape=...) (or lamina.Input(batch_shape=...))",
    "gradients": "a custom train_step, or the engine's autodiff on a stateless_call",
    "get_session": "nothing: lamina has no TensorFlow session; values are computed eagerly or by compiled steps",
    "set_session": "nothing: lamina has no TensorFlow session",
    "rnn": "lamina.layers.RNN with a custom cell",
    "print_tensor": "print(lamina.ops.convert_to_numpy(x)) outside compiled code",
}


def removed_attribute(name):
    """The ``AttributeError`` for ``K.<name>``, naming the replacement of a removed TensorFlow 1 function."""
    if name in _REMOVED:
        return AttributeError(f"`K.{name}` (Keras 2 / TensorFlow 1) is not available in lamina; use "
                              f"{_REMOVED[name]} instead.")
    return AttributeError(f"module 'lamina.backend' has no attribute '{name}'")


from lamina.backend.legacy_math import *  # noqa: E402,F401,F403
from lamina.backend.legacy_nn import *  # noqa: E402,F401,F403
