"""Keras's call forms from the sequence tutorials: RNN layers take Keras's positional arguments after ``units``
(``LSTM(4, "relu")``) and ``use_cudnn``; ``ops.convert_to_numpy`` of a list of tensors (an RNN's states) stacks them."""

import numpy as np
import pytest

import lamina
from lamina import ops


def test_rnn_layers_take_keras_positional_arguments():
    x = np.ones((2, 5, 3), "float32")
    lstm = lamina.layers.LSTM(4, "relu", "hard_sigmoid")
    assert lstm.activation is lamina.activations.relu
    assert lstm.recurrent_activation is lamina.activations.hard_sigmoid
    gru = lamina.layers.GRU(4, "tanh", "sigmoid", False)
    assert not gru.use_bias
    rnn = lamina.layers.SimpleRNN(3, "relu", False)
    assert ops.shape(rnn(x)) == (2, 3) and len(rnn.weights) == 2   # no bias
    assert ops.shape(lstm(x)) == (2, 4) and ops.shape(gru(x)) == (2, 4)
    with pytest.raises(TypeError, match="multiple values for argument 'activation'"):
        lamina.layers.LSTM(4, "relu", activation="tanh")
    with pytest.raises(TypeError, match="at most"):
        lamina.layers.SimpleRNN(3, *(["relu"] * 20))


def test_use_cudnn_false_keeps_the_step_by_step_loop_with_the_same_numbers():
    x = np.random.RandomState(0).rand(2, 5, 3).astype("float32")
    fused = lamina.layers.LSTM(4)
    loop = lamina.layers.LSTM(4, use_cudnn=False)
    fused.build(x.shape)
    loop.build(x.shape)
    loop.set_weights(fused.get_weights())
    assert not loop.use_fused_kernel
    np.testing.assert_allclose(ops.convert_to_numpy(loop(x)), ops.convert_to_numpy(fused(x)), rtol=1e-5, atol=1e-6)


def test_convert_to_numpy_of_a_list_of_states():
    layer = lamina.layers.LSTM(3, return_state=True)
    out, h, c = layer(np.ones((2, 4, 5), "float32"))
    states = ops.convert_to_numpy([h, c])
    assert states.shape == (2, 2, 3)
    np.testing.assert_array_equal(states[0], ops.convert_to_numpy(h))
