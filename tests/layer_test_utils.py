"""One call checks a layer the way every layer must work (see ARCHITECTURE.md, Tests)."""

import numpy as np

import lamina
from lamina import ops


def run_layer_test(layer_cls, init_kwargs, input_shape, expected_output_shape=None,
                   expected_num_trainable_weights=None, expected_num_non_trainable_weights=0,
                   input_dtype="float32", input_data=None, supports_training=True, atol=1e-6):
    """Check config round trip, weight counts, symbolic shapes, eager call, a training step and a
    weights round trip for ``layer_cls(**init_kwargs)`` on inputs of ``input_shape``.
    Returns the layer."""
    rng = np.random.default_rng(0)
    if input_data is None:
        if input_dtype.startswith("int"):
            input_data = rng.integers(0, 5, size=input_shape).astype(input_dtype)
        else:
            input_data = rng.standard_normal(input_shape).astype(input_dtype)

    # 1. config round trip (before build)
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    clone = layer_cls.from_config(config)
    assert clone.get_config() == config, "get_config/from_config does not round-trip"

    # 2. symbolic call: output shape inference
    symbolic_in = lamina.Input(batch_shape=(None,) + tuple(input_shape[1:]), dtype=input_dtype)
    sym_layer = layer_cls(**init_kwargs)
    sym_out = sym_layer(symbolic_in)
    if expected_output_shape is not None:
        assert tuple(sym_out.shape) == (None,) + tuple(expected_output_shape[1:]), (
            f"symbolic output shape {sym_out.shape} != {expected_output_shape}")

    # 3. eager call, weight counts
    out = layer(input_data)
    if expected_output_shape is not None:
        assert tuple(ops.shape(out)) == tuple(expected_output_shape)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    # 4. weights round trip: a second layer with the same weights gives the same output
    other = layer_cls(**init_kwargs)
    other(input_data)
    other.set_weights(layer.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(other(input_data)), ops.convert_to_numpy(out), atol=atol)

    # 5. one training step inside a model changes the trainable weights and lowers nothing to NaN
    if supports_training and layer.trainable_weights:
        inp = lamina.Input(batch_shape=(None,) + tuple(input_shape[1:]), dtype=input_dtype)
        model = lamina.Model(inp, layer_cls(**init_kwargs)(inp))
        model.compile(optimizer="sgd", loss="mse")
        target = np.zeros(ops.shape(out), dtype="float32")
        before = [w.copy() for w in model.get_weights()]
        model.fit(input_data, target, epochs=1, batch_size=len(input_data), verbose=0)
        after = model.get_weights()
        assert any(not np.allclose(a, b) for a, b in zip(before, after)), "a training step changed no weight"
        assert all(np.isfinite(a).all() for a in after)
    return layer
