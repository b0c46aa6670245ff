"""Variable paths as Keras 3 writes them: a layer built inside a model or another layer has its weights under
their names ("sequential/dense/kernel", "lstm/lstm_cell/kernel"), so two LSTMs' cells no longer share a path,
and regexes written for Keras (LayoutMap, exclude_from_weight_decay, DTypePolicyMap) select the same weights.
The expected lists are what Keras 3.15.1 gives for the same code."""

import numpy as np

import lamina

L = lamina.layers


def _paths(obj):
    return [w.path for w in obj.weights]


class _Block(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = L.Dense(2, name="inner")

    def build(self, input_shape):
        self.w = self.add_weight(shape=(1,), name="w")

    def call(self, x):
        return self.inner(x) * self.w


class _MyModel(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = _Block(name="block")
        self.head = L.Dense(1, name="head")

    def call(self, x):
        return self.head(self.block(x))


def test_sequential_and_functional_paths():
    seq = lamina.Sequential([lamina.Input((3,)), L.Dense(2, name="d1"), L.Dense(1, name="d2")], name="sequential")
    assert _paths(seq) == ["sequential/d1/kernel", "sequential/d1/bias", "sequential/d2/kernel", "sequential/d2/bias"]
    lazy = lamina.Sequential([L.Dense(2, name="d1")], name="lazy")
    lazy(np.ones((1, 3), "float32"))
    assert _paths(lazy) == ["lazy/d1/kernel", "lazy/d1/bias"]
    inp = lamina.Input((3,))
    assert _paths(lamina.Model(inp, L.Dense(2, name="fd")(inp))) == ["fd/kernel", "fd/bias"]
    inner = lamina.Sequential([lamina.Input((3,)), L.Dense(2, name="x")], name="inner_seq")
    inp = lamina.Input((3,))
    assert _paths(lamina.Model(inp, inner(inp))) == ["inner_seq/x/kernel", "inner_seq/x/bias"]


def test_subclassed_and_nested_layer_paths():
    model = _MyModel(name="my_model")
    model(np.ones((1, 3), "float32"))
    assert _paths(model) == ["my_model/block/w", "my_model/block/inner/kernel", "my_model/block/inner/bias",
                             "my_model/head/kernel", "my_model/head/bias"]
    inp = lamina.Input((3,))
    assert _paths(lamina.Model(inp, _Block(name="blk")(inp))) == ["blk/w", "blk/inner/kernel", "blk/inner/bias"]
    direct = _Block(name="b2")
    direct.build((None, 3))
    direct.inner.build((None, 3))  # built outside b2's scope: no prefix (as Keras)
    assert _paths(direct) == ["b2/w", "inner/kernel", "inner/bias"]
    # The path is fixed where a layer is first built: calling it later inside another scope changes nothing.
    with lamina.name_scope("elsewhere"):
        model(np.ones((1, 3), "float32"))
    assert _paths(model)[0] == "my_model/block/w"


def test_recurrent_wrapper_and_attention_paths():
    inp = lamina.Input((5, 3))
    assert _paths(lamina.Model(inp, L.LSTM(2, name="lstm")(inp))) == [
        "lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias"]
    inp = lamina.Input((5, 3))
    bidi = _paths(lamina.Model(inp, L.Bidirectional(L.LSTM(2), name="bidirectional")(inp)))
    assert bidi == [f"bidirectional/{d}_lstm/lstm_cell/{w}" for d in ("forward", "backward")
                    for w in ("kernel", "recurrent_kernel", "bias")]
    inp = lamina.Input((4, 8))
    mha = _paths(lamina.Model(inp, L.MultiHeadAttention(2, 4, name="mha")(inp, inp)))
    assert mha == [f"mha/{p}/{w}" for p in ("query", "key", "value", "attention_output") for w in ("kernel", "bias")]
    inp = lamina.Input((3, 4))
    assert _paths(lamina.Model(inp, L.TimeDistributed(L.Dense(2, name="tdd"), name="td")(inp))) == [
        "td/tdd/kernel", "td/tdd/bias"]


def test_two_lstms_have_distinct_paths_and_optimizer_slots():
    inp = lamina.Input((5, 3))
    h = L.LSTM(4, return_sequences=True, name="first")(inp)
    model = lamina.Model(inp, L.LSTM(2, name="second")(h))
    paths = _paths(model)
    assert len(set(paths)) == len(paths) == 6
    optimizer = lamina.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    slots = [v.path for v in optimizer.variables]
    assert "adam/first_lstm_cell_kernel_momentum" in slots and "adam/second_lstm_cell_kernel_momentum" in slots
    assert len(set(slots)) == len(slots)


def test_name_scope_deduplicates_a_callers_own_scope_only():
    class Probe:
        pass

    caller = Probe()
    with lamina.name_scope("a", caller=caller):
        with lamina.name_scope("a", caller=caller):
            v = lamina.Variable(1.0, name="v")
        with lamina.name_scope("a"):
            w = lamina.Variable(1.0, name="w")
    assert v.path == "a/v" and w.path == "a/a/w"
