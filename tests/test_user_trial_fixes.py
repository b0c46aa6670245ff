"""Fixes from a user trial against Keras 3.15.1, on the current backend (LAMINA_BACKEND=torch|jax):

1. sublayers built lazily inside a traced call (symbolic shape inference), e.g. MultiHeadAttention in a custom
   layer called on ``Input``: no crash on JAX, and the same weights as when built eagerly;
2. ``RNN([cell_a, cell_b])`` with custom cells whose ``call`` has no ``training`` argument (numbers from Keras);
3. the data order of ``fit``: with ``steps_per_epoch`` an epoch goes on where the last one stopped, and a
   PyDataset's batches are shuffled at every pass (``shuffle=True``), with exact BackupAndRestore resumes;
4. adapted vocabularies break frequency ties from high to low (Keras's docstring examples).
"""

import collections
import os

import numpy as np
import pytest

import lamina
from lamina import callbacks, layers, ops


def np_(x):
    return ops.convert_to_numpy(x)


# ==== 1. sublayers built inside a traced call ==================================================================

class _MHABlock(layers.Layer):
    def __init__(self):
        super().__init__()
        self.att = layers.MultiHeadAttention(2, 8)

    def call(self, x):
        return self.att(x, x)


def test_multi_head_attention_inside_a_custom_layer_on_a_symbolic_input():
    block = _MHABlock()
    out = block(lamina.Input((6, 8)))
    assert tuple(out.shape) == (None, 6, 8)
    att = block.att
    kernels = [np_(d.kernel) for d in (att._query_dense, att._key_dense, att._value_dense, att._output_dense)]
    # each projection drew its own seed (inside the trace the global seed generator still advances)
    assert len({k.tobytes() for k in kernels}) == 4
    assert np.isfinite(np_(block(np.ones((2, 6, 8), "float32")))).all()


_SUBLAYERS = {
    "dense_layernorm": lambda: lamina.Sequential([layers.Dense(8), layers.LayerNormalization()]),
    "conv": lambda: layers.Conv1D(8, 3, padding="same"),
    "embedding": lambda: layers.Embedding(10, 8),
    "batchnorm": lambda: layers.BatchNormalization(),
    "lstm": lambda: layers.LSTM(8, return_sequences=True),
    "gqa": lambda: layers.GroupedQueryAttention(4, 4, 2),
    "einsum": lambda: layers.EinsumDense("abc,cd->abd", (None, 8), bias_axes="d"),
    "mha": lambda: layers.MultiHeadAttention(2, 4),
}


class _Lazy(layers.Layer):
    """Makes its sublayer in ``build``: under a symbolic call, inside the traced call."""

    def __init__(self, kind, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    def build(self, input_shape):
        self.sub = _SUBLAYERS[self.kind]()

    def call(self, x):
        if self.kind == "embedding":
            x = ops.cast(ops.abs(x[..., 0]) * 3, "int32")
        return self.sub(x, x) if self.kind in ("gqa", "mha") else self.sub(x)


@pytest.mark.parametrize("kind", sorted(_SUBLAYERS))
def test_sublayers_built_inside_a_symbolic_call_match_an_eager_build(kind):
    x = np.random.RandomState(0).randn(2, 6, 8).astype("float32")
    lamina.utils.set_random_seed(3)
    symbolic = _Lazy(kind)
    out = symbolic(lamina.Input((6, 8)))
    assert tuple(out.shape) == (None, 6, 8)
    lamina.utils.set_random_seed(3)
    eager = _Lazy(kind)
    assert tuple(np_(eager(x)).shape) == (2, 6, 8)
    got, want = [np_(w) for w in symbolic.weights], [np_(w) for w in eager.weights]
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_allclose(np_(symbolic(x)), np_(eager(x)), rtol=1e-6, atol=1e-6)


def test_initializers_made_inside_a_symbolic_scope_draw_different_seeds():
    from lamina.initializers.random_initializers import _draw_int_seed

    with lamina.backend.SymbolicScope():
        a, b = _draw_int_seed(), _draw_int_seed()
    assert isinstance(a, int) and a != b
    lamina.utils.set_random_seed(5)
    with lamina.backend.SymbolicScope():
        inside = [_draw_int_seed(), _draw_int_seed()]
    lamina.utils.set_random_seed(5)
    assert [_draw_int_seed(), _draw_int_seed()] == inside  # the same sequence as outside any scope


class _TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = lamina.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn = self.dropout1(self.att(inputs, inputs))
        out1 = self.layernorm1(inputs + attn)
        return self.layernorm2(out1 + self.dropout2(self.ffn(out1)))


class _TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(start=0, stop=ops.shape(x)[-1], step=1))
        return self.token_emb(x) + positions


def test_keras_io_transformer_block_example_builds_and_fits():
    maxlen, vocab = 10, 50
    inputs = layers.Input(shape=(maxlen,))
    x = _TokenAndPositionEmbedding(maxlen, vocab, 16)(inputs)
    x = _TransformerBlock(16, 2, 16)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(8, activation="relu")(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = lamina.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert len(model.trainable_weights) == 22  # as Keras: 2 embeddings, 8 attention, 4 FFN, 4 norms, 4 dense
    before = [np_(w) for w in model.trainable_weights]
    rng = np.random.RandomState(0)
    xs, ys = rng.randint(0, vocab, (32, maxlen)), rng.randint(0, 2, (32,))
    history = model.fit(xs, ys, batch_size=8, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    assert all(not np.array_equal(b, np_(w)) for b, w in zip(before, model.trainable_weights))
    assert model.predict(xs[:3], verbose=0).shape == (3, 2)


# ==== 2. stacked custom RNN cells ==============================================================================

class _MinimalRNNCell(layers.Layer):
    """The custom cell of Keras's RNN docs: ``call(inputs, states)``, no ``training``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        h = ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
        return h, [h]


def _fixed(shape, k):
    n = int(np.prod(shape))
    return (np.sin(np.arange(n) * 0.7 + k) * 0.5).reshape(shape).astype("float32")


# From Keras 3.15.1 (JAX) with the same weights (``_fixed``) and inputs: sample 1 of the sequence output,
# and the final states.
_KERAS_MINIMAL_SEQ_1 = [[-0.030435, -0.026314, -0.009816], [0.008687, 0.00731, 0.002496],
                        [0.018502, 0.014439, 0.003584], [-0.031297, -0.025692, -0.008004]]
_KERAS_MINIMAL_STATES = [[[-0.022914, 0.055917, 0.108449, 0.109976], [0.072111, 0.025167, -0.033614, -0.076585]],
                         [[0.018663, 0.014809, 0.00399], [-0.031297, -0.025692, -0.008004]]]
_KERAS_BUILTIN_SEQ_1 = [[-0.15084, -0.099119], [-0.243275, -0.156954], [-0.298261, -0.188796],
                        [-0.329911, -0.206788]]


def test_stacked_custom_cells_without_training_argument_match_keras():
    layer = layers.RNN([_MinimalRNNCell(4), _MinimalRNNCell(3)], return_sequences=True, return_state=True)
    x = _fixed((2, 4, 3), 0)
    symbolic = layer(lamina.Input((4, 3)))
    assert [tuple(t.shape) for t in symbolic] == [(None, 4, 3), (None, 4), (None, 3)]
    layer.set_weights([_fixed(w.shape, i + 1) for i, w in enumerate(layer.get_weights())])
    seq, h1, h2 = layer(x)
    np.testing.assert_allclose(np_(seq)[1], _KERAS_MINIMAL_SEQ_1, atol=2e-6)
    np.testing.assert_allclose(np_(h1), _KERAS_MINIMAL_STATES[0], atol=2e-6)
    np.testing.assert_allclose(np_(h2), _KERAS_MINIMAL_STATES[1], atol=2e-6)
    # and in a model that trains (the RNN passes training=True, the cells do not take it)
    model = lamina.Sequential([lamina.Input((4, 3)),
                               layers.RNN([_MinimalRNNCell(4), _MinimalRNNCell(3)])])
    model.compile("sgd", "mse")
    history = model.fit(x, np.zeros((2, 3), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_stacked_builtin_cells_match_keras():
    layer = layers.RNN([layers.SimpleRNNCell(4), layers.LSTMCell(3), layers.GRUCell(2)], return_sequences=True)
    x = _fixed((2, 4, 3), 0)
    layer(x)
    layer.set_weights([_fixed(w.shape, i + 1) for i, w in enumerate(layer.get_weights())])
    np.testing.assert_allclose(np_(layer(x))[1], _KERAS_BUILTIN_SEQ_1, atol=2e-6)


class _RecordingCell(_MinimalRNNCell):
    """A custom cell whose call takes ``training``: it records what it gets."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.seen = set()

    def call(self, inputs, states, training=None):
        self.seen.add(training)
        return super().call(inputs, states)


@pytest.mark.parametrize("stacked", [False, True])
def test_training_reaches_the_cells_whose_call_takes_it(stacked):
    rec = _RecordingCell(3)
    cell = [_MinimalRNNCell(4), rec] if stacked else rec
    layer = layers.RNN(cell)
    x = np.ones((2, 3, 2), "float32")
    layer(x, training=True)
    assert True in rec.seen
    rec.seen.clear()
    layer(x, training=False)
    assert rec.seen == {False}


def test_stacked_builtin_cells_apply_dropout_in_training_only():
    model = lamina.Sequential([lamina.Input((5, 3)), layers.RNN([
        layers.SimpleRNNCell(4, dropout=0.5, recurrent_dropout=0.3), layers.LSTMCell(3, dropout=0.2)])])
    model.compile("sgd", "mse")
    x = np.random.RandomState(0).randn(8, 5, 3).astype("float32")
    history = model.fit(x, np.zeros((8, 3), "float32"), epochs=2, verbose=0)  # JAX: masks drawn outside the scan
    assert np.isfinite(history.history["loss"]).all()
    a, b = np_(model(x, training=True)), np_(model(x, training=True))
    assert np.abs(a - b).max() > 1e-3
    np.testing.assert_array_equal(np_(model(x)), np_(model(x)))


# ==== 3. the data order of fit ================================================================================

class _Record(layers.Layer):
    """Records the first column of each batch it sees run eagerly (the sample ids)."""

    def __init__(self, log, **kwargs):
        super().__init__(**kwargs)
        # the list's append, not the list: a list set as a layer's attribute is the layer's own copy, as in Keras
        self.record = log.append

    def call(self, x):
        if not lamina.backend.is_keras_tensor(x):
            try:
                self.record(np_(x)[:, 0].astype(int).tolist())
            except Exception:  # a traced value (JAX shape inference): nothing to record
                pass
        return x


class _EpochMarks(callbacks.Callback):
    def __init__(self, log):
        super().__init__()
        self.log = log

    def on_epoch_begin(self, epoch, logs=None):
        self.log.append("|")


def _order_of_fit(x, y=None, input_shape=(1,), **kwargs):
    """The first sample id of every batch ``fit`` trained on, epoch by epoch; and the batches themselves."""
    log = []
    front = [layers.Reshape((1,))] if input_shape != (1,) else []
    model = lamina.Sequential([lamina.Input(input_shape), *front, _Record(log), layers.Dense(1)])
    model.compile("sgd", "mse", run_eagerly=True)
    model.fit(x, y, verbose=0, callbacks=[_EpochMarks(log)], **kwargs)
    log = log[log.index("|"):]  # (a batch the model was built on before the first epoch is not trained on)
    epochs = []
    for entry in log:
        if entry == "|":
            epochs.append([])
        else:
            epochs[-1].append(entry[0])
    return epochs, [b for b in log if b != "|"]


_X20 = np.arange(20, dtype="float32").reshape(20, 1)
_Y20 = np.zeros((20, 1), "float32")


def test_steps_per_epoch_goes_on_through_the_arrays_across_epochs():
    # Keras 3.15.1: batches 0,5 | 10,15 | 0,5 (the first value of each batch of 5)
    order, _ = _order_of_fit(_X20, _Y20, batch_size=5, steps_per_epoch=2, epochs=3, shuffle=False)
    assert order == [[0, 5], [10, 15], [0, 5]]
    order, _ = _order_of_fit(_X20, _Y20, batch_size=5, steps_per_epoch=2, epochs=3, shuffle=False, initial_epoch=1)
    assert order == [[0, 5], [10, 15]]  # initial_epoch does not move the data
    order, _ = _order_of_fit(_X20, _Y20, batch_size=5, epochs=2, shuffle=False)
    assert order == [[0, 5, 10, 15], [0, 5, 10, 15]]  # without steps_per_epoch: a pass per epoch


def test_an_epoch_that_reaches_the_end_of_the_arrays_is_cut_short_with_a_warning():
    # Keras 3.15.1 (batch_size=6: 4 batches): 0,6,12 | 18 | 0,6,12
    with pytest.warns(UserWarning, match=r"epoch 2 runs 1 of steps_per_epoch=3 steps.*new pass"):
        order, _ = _order_of_fit(_X20, _Y20, batch_size=6, steps_per_epoch=3, epochs=3, shuffle=False)
    assert order == [[0, 6, 12], [18], [0, 6, 12]]


def test_shuffled_arrays_with_steps_per_epoch_reshuffle_once_per_pass():
    lamina.utils.set_random_seed(0)
    _, batches = _order_of_fit(_X20, _Y20, batch_size=5, steps_per_epoch=2, epochs=4, shuffle=True)
    first_pass, second_pass = sum(batches[:4], []), sum(batches[4:], [])
    assert sorted(first_pass) == sorted(second_pass) == list(range(20))  # two epochs make one pass
    assert first_pass != second_pass and first_pass != list(range(20))
    lamina.utils.set_random_seed(0)
    assert _order_of_fit(_X20, _Y20, batch_size=5, steps_per_epoch=2, epochs=4, shuffle=True)[1] == batches


class _Six(lamina.utils.PyDataset):
    """Six batches of two samples; batch ``i`` holds the value ``i``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return np.full((2, 1), i, "float32"), np.zeros((2, 1), "float32")


def test_a_pydataset_is_shuffled_at_every_epoch_by_default():
    lamina.utils.set_random_seed(0)
    order, _ = _order_of_fit(_Six(), epochs=3)
    assert [sorted(e) for e in order] == [list(range(6))] * 3
    assert any(e != list(range(6)) for e in order) and order[0] != order[1]
    lamina.utils.set_random_seed(0)
    assert _order_of_fit(_Six(), epochs=3)[0] == order  # seeded by set_random_seed
    lamina.utils.set_random_seed(0)
    assert _order_of_fit(_Six(workers=2), epochs=3)[0] == order  # worker threads keep the drawn order
    assert _order_of_fit(_Six(), epochs=2, shuffle=False)[0] == [list(range(6))] * 2


def test_a_pydataset_with_steps_per_epoch_goes_on_and_reshuffles_per_pass():
    order, _ = _order_of_fit(_Six(), epochs=3, steps_per_epoch=3, shuffle=False)
    assert order == [[0, 1, 2], [3, 4, 5], [0, 1, 2]]
    lamina.utils.set_random_seed(1)
    order, _ = _order_of_fit(_Six(), epochs=4, steps_per_epoch=3)
    assert sorted(order[0] + order[1]) == sorted(order[2] + order[3]) == list(range(6))


def test_dataset_stand_ins_for_tf_data_keep_their_order_in_fit():
    # timeseries_dataset_from_array gives a tf.data dataset in Keras, whose order fit(shuffle=True) keeps
    series = np.arange(30, dtype="float32").reshape(30, 1)
    ds = lamina.utils.timeseries_dataset_from_array(series, series, sequence_length=1, batch_size=5)
    lamina.utils.set_random_seed(0)
    order, _ = _order_of_fit(ds, input_shape=(1, 1), epochs=2)
    assert order == [[0, 5, 10, 15, 20, 25]] * 2


def test_a_broken_batch_of_a_shuffled_pydataset_is_named_by_its_index():
    class Broken(_Six):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return (x, y[:1]) if i == 4 else (x, y)

    model = lamina.Sequential([lamina.Input((1,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    lamina.utils.set_random_seed(0)
    with pytest.raises(ValueError, match="batch 4 from the PyDataset"):
        model.fit(Broken(), epochs=2, verbose=0)


# ---- BackupAndRestore resumes exactly inside a pass that spans epochs ----

_N, _BS = 96, 16  # 6 batches; steps_per_epoch=3: two epochs per pass


def _bar_data():
    rs = np.random.RandomState(0)
    x = rs.randn(_N, 6).astype("float32")
    return x, (x[:, :3].sum(axis=1) > 0).astype("int32")


class _BarBatches(lamina.utils.PyDataset):
    def __init__(self):
        super().__init__()
        self.x, self.y = _bar_data()

    def __len__(self):
        return _N // _BS

    def __getitem__(self, i):
        return self.x[i * _BS:(i + 1) * _BS], self.y[i * _BS:(i + 1) * _BS]


def _bar_model():
    lamina.utils.set_random_seed(7)
    model = lamina.Sequential([lamina.Input((6,)), layers.Dense(12, activation="relu"), layers.Dropout(0.3),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _bar_fit(model, source, cbs):
    kwargs = dict(epochs=4, steps_per_epoch=3, verbose=0, callbacks=cbs)
    if source == "pydataset":
        return model.fit(_BarBatches(), **kwargs)
    return model.fit(*_bar_data(), batch_size=_BS, shuffle=True, **kwargs)


class _RaiseAt(callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


_BAR_REFERENCE = {}


def _bar_reference(source):
    """(weights, last loss) of an uninterrupted run, once per source."""
    if source not in _BAR_REFERENCE:
        model = _bar_model()
        history = _bar_fit(model, source, [])
        _BAR_REFERENCE[source] = (model.get_weights(), history.history["loss"][-1])
    return _BAR_REFERENCE[source]


# 4 epochs of 3 steps over 6 batches: passes A (epochs 0, 1) and B (epochs 2, 3). The crash points resume
# inside pass A at its middle (from a batch backup, and from the backup at the end of epoch 0), and inside B.
@pytest.mark.parametrize("source", ["arrays", "pydataset"])
@pytest.mark.parametrize("save_freq,crash", [(1, (1, 0)), ("epoch", (1, 1)), (1, (2, 1)), ("epoch", (3, 0))])
def test_backup_and_restore_resumes_inside_a_pass_that_spans_epochs(tmp_path, source, save_freq, crash):
    want_weights, want_loss = _bar_reference(source)
    interrupted = _bar_model()
    backup = os.path.join(str(tmp_path), "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        _bar_fit(interrupted, source, [callbacks.BackupAndRestore(backup, save_freq=save_freq), _RaiseAt(*crash)])
    resumed = _bar_model()
    h = _bar_fit(resumed, source, [callbacks.BackupAndRestore(backup, save_freq=save_freq)])
    got_weights = resumed.get_weights()
    assert len(got_weights) == len(want_weights)
    for got, want in zip(got_weights, want_weights):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(h.history["loss"][-1], want_loss, rtol=1e-6)


def test_resume_at_rejects_a_bad_pass_offset():
    from lamina.training.resume import LoopPosition

    with pytest.raises(ValueError, match="pass_offset must be a non-negative int"):
        LoopPosition(np.random.default_rng(0)).resume_at(1, 0, None, None, pass_offset=-2)


# ==== 4. adapted vocabularies: ties from high to low ===========================================================

def test_string_lookup_ties_as_keras_docstring():
    data = [["a", "c", "d"], ["d", "z", "b"]]
    layer = layers.StringLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    np.testing.assert_array_equal(np_(layer(data)), [[5, 3, 1], [1, 2, 4]])


def test_integer_lookup_ties_as_keras_docstring():
    layer = layers.IntegerLookup()
    layer.adapt(np.array([[12, 1138, 42], [42, 1000, 36]]))
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]


def test_text_vectorization_ties_as_keras_docstring():
    layer = layers.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    np.testing.assert_array_equal(np_(layer([["foo qux bar"], ["qux baz"]])), [[4, 1, 3, 0], [1, 2, 0, 0]])


def test_max_tokens_cuts_ties_keeping_the_higher_tokens_and_idf_follows_the_order():
    layer = layers.StringLookup(max_tokens=3)
    layer.adapt(np.array(["b", "a", "c", "x", "x", "x"]))
    assert layer.get_vocabulary() == ["[UNK]", "x", "c"]
    tfidf = layers.TextVectorization(output_mode="tf_idf")
    tfidf.adapt(["m n", "n q", "m"])  # m 2 docs, n 2 docs, q 1 doc
    assert tfidf.get_vocabulary() == ["[UNK]", "n", "m", "q"]
    idf = np.log1p(3 / (1 + np.array([2.0, 2.0, 1.0])))
    np.testing.assert_allclose(np_(tfidf(["q"]))[0, 1:], [0, 0, idf[2]], rtol=1e-6)


def test_adapted_vocabulary_survives_saving(tmp_path):
    text = layers.TextVectorization(output_mode="int", output_sequence_length=3, name="vec")
    text.adapt(["c b", "b a", "d"])
    assert text.get_vocabulary() == ["", "[UNK]", "b", "d", "c", "a"]
    model = lamina.Sequential([lamina.Input((1,), dtype="string"), text])
    path = os.path.join(str(tmp_path), "vec.keras")
    model.save(path)
    loaded = lamina.saving.load_model(path)
    assert loaded.layers[0].get_vocabulary() == text.get_vocabulary()
    np.testing.assert_array_equal(np_(loaded(np.array([["a d zz"]]))), np_(model(np.array([["a d zz"]]))))


def test_tokens_by_frequency_orders_counts_as_keras():
    from lamina.layers.preprocessing.index_lookup import tokens_by_frequency

    assert tokens_by_frequency(collections.Counter("abcabd")) == ["b", "a", "d", "c"]
    assert tokens_by_frequency(collections.Counter([3, 1, 2, 2])) == [2, 3, 1]
    assert tokens_by_frequency(collections.Counter()) == []
