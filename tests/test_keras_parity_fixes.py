"""Discrepancies with Keras 3.15.1 found by a user trial, each pinned by a test (both backends).

Default names of metrics/losses/optimizers and of Bidirectional; Keras 2's ``K.*`` backend functions;
``implementation=`` on recurrent layers; BatchNormalization's batch renormalization; ``Normalization.mean``;
clear errors for contractions whose shapes do not fit; ``activity_regularizer`` and the initializers'
``input_axes``/``output_axes`` in configs. Expected values come from Keras 3.15.1 (names, the fixture files
in ``tests/fixtures_keras_parity``) or from NumPy references of Keras's formulas.
"""

import os
import warnings

import numpy as np
import pytest

import lamina
from lamina import backend as K
from lamina import layers, ops
from lamina.backend import _legacy_util

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures_keras_parity")


def np_(x):
    return np.asarray(ops.convert_to_numpy(x))


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# ---- 1. default names (Keras 3.15.1, each made right after clear_session) --------------------------------------

KERAS_NAMES = {
    "metrics.AUC": "auc", "metrics.Accuracy": "accuracy", "metrics.BinaryAccuracy": "binary_accuracy",
    "metrics.BinaryCrossentropy": "binary_crossentropy", "metrics.BinaryIoU": "binary_io_u",
    "metrics.CategoricalAccuracy": "categorical_accuracy",
    "metrics.CategoricalCrossentropy": "categorical_crossentropy",
    "metrics.CategoricalHinge": "categorical_hinge", "metrics.ConcordanceCorrelation": "concordance_correlation",
    "metrics.CosineSimilarity": "cosine_similarity", "metrics.F1Score": "f1_score", "metrics.FBetaScore": "fbeta_score",
    "metrics.FalseNegatives": "false_negatives", "metrics.FalsePositives": "false_positives", "metrics.Hinge": "hinge",
    "metrics.IoU": "io_u", "metrics.KLDivergence": "kl_divergence", "metrics.LogCoshError": "logcosh",
    "metrics.Mean": "mean", "metrics.MeanAbsoluteError": "mean_absolute_error",
    "metrics.MeanAbsolutePercentageError": "mean_absolute_percentage_error", "metrics.MeanIoU": "mean_io_u",
    "metrics.MeanSquaredError": "mean_squared_error",
    "metrics.MeanSquaredLogarithmicError": "mean_squared_logarithmic_error", "metrics.OneHotIoU": "one_hot_io_u",
    "metrics.OneHotMeanIoU": "one_hot_mean_io_u", "metrics.PearsonCorrelation": "pearson_correlation",
    "metrics.Poisson": "poisson", "metrics.Precision": "precision", "metrics.PrecisionAtRecall": "precision_at_recall",
    "metrics.R2Score": "r2_score", "metrics.Recall": "recall", "metrics.RecallAtPrecision": "recall_at_precision",
    "metrics.RootMeanSquaredError": "root_mean_squared_error",
    "metrics.SensitivityAtSpecificity": "sensitivity_at_specificity",
    "metrics.SparseCategoricalAccuracy": "sparse_categorical_accuracy",
    "metrics.SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "metrics.SparseTopKCategoricalAccuracy": "sparse_top_k_categorical_accuracy",
    "metrics.SpecificityAtSensitivity": "specificity_at_sensitivity", "metrics.SquaredHinge": "squared_hinge",
    "metrics.Sum": "sum", "metrics.TopKCategoricalAccuracy": "top_k_categorical_accuracy",
    "metrics.TrueNegatives": "true_negatives", "metrics.TruePositives": "true_positives",
    "losses.BinaryCrossentropy": "binary_crossentropy", "losses.BinaryFocalCrossentropy": "binary_focal_crossentropy",
    "losses.CTC": "ctc", "losses.CategoricalCrossentropy": "categorical_crossentropy",
    "losses.CategoricalFocalCrossentropy": "categorical_focal_crossentropy",
    "losses.CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy",
    "losses.CategoricalHinge": "categorical_hinge", "losses.Circle": "circle",
    "losses.CosineSimilarity": "cosine_similarity", "losses.Dice": "dice", "losses.Hinge": "hinge",
    "losses.Huber": "huber_loss", "losses.KLDivergence": "kl_divergence", "losses.LogCosh": "log_cosh",
    "losses.MeanAbsoluteError": "mean_absolute_error",
    "losses.MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "losses.MeanSquaredError": "mean_squared_error",
    "losses.MeanSquaredLogarithmicError": "mean_squared_logarithmic_error",
    "losses.Poisson": "poisson", "losses.SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "losses.SquaredHinge": "squared_hinge", "losses.Tversky": "tversky",
    "optimizers.Adadelta": "adadelta", "optimizers.Adafactor": "adafactor", "optimizers.Adagrad": "adagrad",
    "optimizers.Adam": "adam", "optimizers.AdamW": "adam_w", "optimizers.Adamax": "adamax", "optimizers.Ftrl": "ftrl",
    "optimizers.Lamb": "lamb", "optimizers.Lion": "lion", "optimizers.Muon": "muon", "optimizers.Nadam": "nadam",
    "optimizers.RMSprop": "rm_sprop", "optimizers.SGD": "sgd", "optimizers.ScheduleFreeAdamW": "schedule_free_adam_w",
}

_ARGS = {"IoU": dict(num_classes=2, target_class_ids=[0]), "OneHotIoU": dict(num_classes=2, target_class_ids=[0]),
         "MeanIoU": dict(num_classes=2), "OneHotMeanIoU": dict(num_classes=2), "PrecisionAtRecall": dict(recall=0.5),
         "RecallAtPrecision": dict(precision=0.5), "SensitivityAtSpecificity": dict(specificity=0.5),
         "SpecificityAtSensitivity": dict(sensitivity=0.5)}


@pytest.mark.parametrize("path", sorted(KERAS_NAMES))
def test_default_names_match_keras(path):
    module, cls = path.split(".")
    lamina.utils.clear_session(free_memory=False)
    obj = getattr(getattr(lamina, module), cls)(**_ARGS.get(cls, {}))
    assert obj.name == KERAS_NAMES[path]


def test_unnamed_metrics_and_optimizers_are_uniquified_as_keras_and_clear_session_restarts():
    assert [lamina.metrics.AUC().name for _ in range(3)] == ["auc", "auc_1", "auc_2"]
    assert [lamina.optimizers.Adam().name for _ in range(2)] == ["adam", "adam_1"]
    assert [lamina.metrics.Mean().name for _ in range(2)] == ["mean", "mean"]  # a default name: kept as is
    assert lamina.optimizers.SGD(name="mine").name == "mine"
    lamina.utils.clear_session(free_memory=False)
    assert lamina.metrics.AUC().name == "auc" and lamina.optimizers.Adam().name == "adam"


def test_val_auc_monitor_works_in_fit_callbacks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[lamina.metrics.AUC()])
    stop = lamina.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=5)
    hist = model.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[stop])
    assert "val_auc" in hist.history and len(hist.history["val_auc"]) == 2
    assert model.optimizer.name.startswith("sgd")


# ---- 2. Bidirectional names -------------------------------------------------------------------------------------

def test_bidirectional_default_names_as_keras():
    b = layers.Bidirectional(layers.LSTM(3))
    assert (b.name, b.forward_layer.name, b.backward_layer.name) == ("bidirectional", "forward_lstm", "backward_lstm")
    assert layers.Bidirectional(layers.GRU(2)).name == "bidirectional_1"
    config = b.get_config()
    assert config["layer"]["config"]["name"] == "forward_lstm"  # Keras serializes the forward layer
    again = layers.Bidirectional.from_config(config)
    assert (again.name, again.forward_layer.name, again.backward_layer.name) == \
        ("bidirectional", "forward_lstm", "backward_lstm")
    inp = lamina.Input((4, 2))
    model = lamina.Model(inp, layers.Bidirectional(layers.LSTM(3))(inp))
    assert model.get_layer("bidirectional_2").forward_layer.name == "forward_lstm_1"  # its LSTM is lstm_1


def test_keras_written_bidirectional_model_loads_with_keras_names_and_outputs():
    expected = np.load(os.path.join(FIXTURES, "expected.npz"))
    model = lamina.saving.load_model(os.path.join(FIXTURES, "bidirectional.keras"))
    assert [layer.name for layer in model.layers] == ["input_layer", "conv1d", "bidirectional", "bidirectional_1",
                                                       "dense"]
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["bidirectional"], atol=1e-6)
    # the Conv1D's activity regularizer came with the file and still acts
    assert model.get_layer("conv1d").get_config()["activity_regularizer"]["class_name"] == "L2"
    model(expected["x"])
    assert len(model.losses) == 1


# ---- 3. Keras 2 backend functions -------------------------------------------------------------------------------

def test_k_functions_warn_once_naming_the_modern_form():
    _legacy_util._WARNED.discard("variable")
    with pytest.warns(DeprecationWarning, match=r"K\.variable.*lamina\.Variable"):
        K.variable(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        K.variable(2.0)  # once per process
    _legacy_util._WARNED.discard("concatenate")
    with pytest.warns(DeprecationWarning, match="lamina.ops.concatenate"):
        K.concatenate([ops.ones((1, 2)), ops.ones((1, 2))])


def test_k_removed_tf1_functions_say_what_replaces_them():
    with pytest.raises(AttributeError, match=r"K\.placeholder.*lamina\.Input"):
        K.placeholder
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        K.no_such_thing
    assert not hasattr(K, "get_session")


def test_k_variables_constants_and_values(quiet):
    v = K.variable(np.array([[1, 2], [3, 4]]), name="example_var")
    assert isinstance(v, lamina.Variable) and K.dtype(v) == "float32" and v.trainable
    assert K.dtype(K.variable([1, 2], dtype="float64")) == "float64"
    np.testing.assert_array_equal(K.eval(v), [[1, 2], [3, 4]])
    K.set_value(v, np.zeros((2, 2)))
    np.testing.assert_array_equal(K.get_value(v), np.zeros((2, 2)))
    z = K.zeros((2, 3))
    assert isinstance(z, lamina.Variable) and K.count_params(z) == 6 and K.int_shape(z) == (2, 3)
    np.testing.assert_array_equal(K.eval(K.eye(2)), np.eye(2))
    np.testing.assert_array_equal(np_(K.constant(2.0, shape=(2, 2))), np.full((2, 2), 2.0))
    assert K.dtype(K.constant(1)) == "float32"
    np.testing.assert_array_equal(np_(K.ones_like(np.zeros((2, 2)))), np.ones((2, 2)))
    assert K.dtype(K.zeros_like(ops.ones((2,)), dtype="int32")) == "int32"
    cast = K.cast_to_floatx(np.array([1.0, 2.0], dtype="float64"))
    assert isinstance(cast, np.ndarray) and cast.dtype == np.float32
    assert K.dtype(K.cast_to_floatx(ops.ones((2,), dtype="int32"))) == "float32"
    assert K.shape(ops.ones((2, 5)))[0] == 2 and K.ndim(ops.ones((2, 5))) == 2
    m = K.variable(0.0)
    K.moving_average_update(m, 2.0, 0.9)
    assert float(K.get_value(m)) == pytest.approx(0.2)
    K.update_add(m, 1.0)
    assert float(K.get_value(m)) == pytest.approx(1.2)


def test_k_zeros_inside_a_layer_call_is_a_plain_tensor(quiet):
    seen = []

    class AddZeros(layers.Layer):
        def call(self, x):
            z = K.zeros((3,))
            seen.append(isinstance(z, lamina.Variable))
            return x + z

    model = lamina.Sequential([lamina.Input((3,)), AddZeros()])
    np.testing.assert_array_equal(model.predict(np.ones((2, 3), "float32"), verbose=0), np.ones((2, 3)))
    assert seen and not any(seen)  # no new Variable per call


def test_k_math_follows_keras2_defaults(quiet):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3)).astype("float32")
    assert np_(K.concatenate([x, x])).shape == (2, 6)  # axis=-1
    np.testing.assert_array_equal(np_(K.argmax(x)), x.argmax(-1))  # axis=-1
    assert np_(K.expand_dims(x)).shape == (2, 3, 1)  # axis=-1
    np.testing.assert_allclose(np_(K.cumsum(x)), np.cumsum(x, axis=0), rtol=1e-6)  # axis=0
    np.testing.assert_array_equal(np_(K.sqrt(np.array([-1.0, 4.0], "float32"))), [0.0, 2.0])  # clipped at 0
    np.testing.assert_array_equal(np_(K.clip(x, 1.0, 0.0)), np.ones((2, 3)))  # max < min: min
    assert np_(K.clip(x, 0.5, None)).min() == pytest.approx(0.5)
    assert float(np_(K.mean(ops.convert_to_tensor([True, False, True])))) == pytest.approx(2 / 3)
    np.testing.assert_allclose(np_(K.std(x, axis=1)), x.std(axis=1), rtol=1e-5)
    np.testing.assert_allclose(np_(K.l2_normalize(x, axis=-1)), x / np.linalg.norm(x, axis=-1, keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(np_(K.permute_dimensions(x, (1, 0))), x.T)
    assert np_(K.batch_flatten(np.ones((2, 3, 4, 5)))).shape == (2, 60)
    assert np_(K.repeat(x, 4)).shape == (2, 4, 3) and np_(K.repeat_elements(x, 2, 1)).shape == (2, 6)
    np.testing.assert_array_equal(np_(K.gather(x, [1, 0])), x[[1, 0]])
    np.testing.assert_array_equal(np_(K.one_hot(np.array([0, 2]), 3)), np.eye(3)[[0, 2]])
    np.testing.assert_array_equal(np_(K.arange(5)), np.arange(5))
    assert np_(K.spatial_2d_padding(np.ones((1, 2, 2, 3)))).shape == (1, 4, 4, 3)
    assert np_(K.resize_images(np.ones((1, 2, 2, 3)), 2, 3, "channels_last")).shape == (1, 4, 6, 3)


def test_k_dot_and_batch_dot_have_keras2_semantics(quiet):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(4, 3, 5)).astype("float32")
    np.testing.assert_allclose(np_(K.dot(a, b)), np.dot(a, b), rtol=1e-5, atol=1e-6)  # (2, 4, 5), NumPy's dot
    x, y = rng.normal(size=(32, 20, 1)).astype("float32"), rng.normal(size=(32, 30, 20)).astype("float32")
    np.testing.assert_allclose(np_(K.batch_dot(x, y, axes=(1, 2))), np.einsum("bzi,bjz->bij", x, y), rtol=1e-4,
                               atol=1e-5)
    u, w = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(np_(K.batch_dot(u, w, axes=1)), (u * w).sum(1, keepdims=True), rtol=1e-5)  # (4, 1)
    p, q = rng.normal(size=(5, 2, 3, 4)).astype("float32"), rng.normal(size=(5, 4, 6)).astype("float32")
    np.testing.assert_allclose(np_(K.batch_dot(p, q)), np.einsum("abcd,ade->abce", p, q), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="axis 0"):
        K.batch_dot(u, w, axes=0)
    with pytest.raises(ValueError, match=r"x.shape\[1\] != y.shape\[1\]"):
        K.batch_dot(u, np.ones((4, 5), "float32"), axes=1)


def test_k_crossentropies_match_keras2_formulas(quiet):
    eps = 1e-7
    t = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]], "float32")
    p = np.array([[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]], "float32")
    np.testing.assert_allclose(np_(K.categorical_crossentropy(t, p)), [0.10536, 0.11653, 0.06188], atol=1e-5)
    logits = np.log(p) + 1.5
    np.testing.assert_allclose(np_(K.categorical_crossentropy(t, logits, from_logits=True)),
                               -np.log(p[np.arange(3), [0, 1, 2]] / p.sum(1)), rtol=1e-5)
    ref = -np.log(np.clip(p, eps, 1 - eps)[np.arange(3), [0, 1, 2]])
    np.testing.assert_allclose(np_(K.sparse_categorical_crossentropy(np.array([0, 1, 2]), p)), ref, rtol=1e-5)
    np.testing.assert_allclose(np_(K.sparse_categorical_crossentropy(np.array([[0], [1], [2]]), p)), ref, rtol=1e-5)
    np.testing.assert_allclose(np_(K.sparse_categorical_crossentropy(np.array([0, 1, 2]), p, ignore_class=1)),
                               [ref[0], 0.0, ref[2]], rtol=1e-5)
    assert np_(K.sparse_categorical_crossentropy(np.zeros((2, 4), "int32"),
                                                 np.full((2, 4, 3), 1 / 3, "float32"))).shape == (2, 4)
    yt, yp = np.array([1.0, 0.0, 1.0], "float32"), np.array([0.9, 0.2, 1.0], "float32")
    c = np.clip(yp, eps, 1 - eps)
    np.testing.assert_allclose(np_(K.binary_crossentropy(yt, yp)),
                               -(yt * np.log(c + eps) + (1 - yt) * np.log(1 - c + eps)), rtol=1e-5)
    z = np.array([2.0, -1.0, 0.5], "float32")
    np.testing.assert_allclose(np_(K.binary_crossentropy(yt, z, from_logits=True)),
                               np.maximum(z, 0) - z * yt + np.log1p(np.exp(-np.abs(z))), rtol=1e-5)


def test_k_activations_and_nn_functions(quiet):
    x = np.array([-2.0, 0.5, 3.0, 8.0], "float32")
    np.testing.assert_allclose(np_(K.relu(x, alpha=0.1, max_value=6.0, threshold=1.0)), [-0.3, -0.05, 3.0, 6.0],
                               rtol=1e-6)
    np.testing.assert_allclose(np_(K.relu(x, alpha=0.1)), np.where(x > 0, x, 0.1 * x), rtol=1e-6)
    np.testing.assert_allclose(np_(K.hard_sigmoid(np.array([-3.0, 0.0, 1.0], "float32"))), [0.0, 0.5, 0.7])
    np.testing.assert_allclose(np_(K.elu(np.array([-1.0, 1.0], "float32"), alpha=2.0)), [2 * (np.exp(-1) - 1), 1.0],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="rank"):
        K.softmax(ops.ones((3,)))
    bias = np.arange(3, dtype="float32")
    np.testing.assert_array_equal(np_(K.bias_add(np.zeros((1, 2, 2, 3), "float32"), bias))[0, 0, 0], bias)
    np.testing.assert_array_equal(np_(K.bias_add(np.zeros((1, 3, 2, 2), "float32"), bias,
                                                 data_format="channels_first"))[0, :, 0, 0], bias)
    xs = np.random.default_rng(2).normal(size=(4, 3)).astype("float32")
    mean, var = xs.mean(0), xs.var(0)
    beta, gamma = np.array([0.1, 0.2, 0.3], "float32"), np.array([1.0, 2.0, 3.0], "float32")
    np.testing.assert_allclose(np_(K.batch_normalization(xs, mean, var, beta, gamma, epsilon=1e-3)),
                               (xs - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-5, atol=1e-6)
    normed, m, v = K.normalize_batch_in_training(xs, gamma, beta, [0])
    np.testing.assert_allclose(np_(normed), (xs - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-4, atol=1e-5)
    out = np_(K.conv1d(np.ones((1, 5, 2), "float32"), np.ones((3, 2, 1), "float32"), padding="causal"))
    np.testing.assert_array_equal(out.ravel(), [2, 4, 6, 6, 6])
    assert np_(K.pool2d(np.ones((1, 4, 4, 2), "float32"), (2, 2), strides=(2, 2), pool_mode="avg")).shape == \
        (1, 2, 2, 2)
    np.testing.assert_array_equal(np_(K.in_top_k(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]), 1)),
                                  [True, False])


def test_k_random_switch_and_learning_phase(quiet):
    r = np_(K.random_normal((200, 3), mean=1.0, stddev=0.5, seed=3))
    assert r.dtype == np.float32 and abs(r.mean() - 1.0) < 0.15
    u = np_(K.random_uniform((100,), minval=2.0, maxval=3.0))
    assert u.min() >= 2.0 and u.max() < 3.0
    assert set(np.unique(np_(K.random_bernoulli((50,), p=0.5, seed=1)))) <= {0.0, 1.0}
    np.testing.assert_array_equal(np_(K.switch(np.array([True, False]), np.ones((2, 3)), np.zeros((2, 3)))),
                                  [[1, 1, 1], [0, 0, 0]])
    assert np_(K.switch(ops.convert_to_tensor(False), lambda: ops.ones(2), lambda: ops.zeros(2))).tolist() == [0, 0]
    assert K.learning_phase() == 0 and K.in_train_phase(1, 2) == 2 and K.in_test_phase(1, 2) == 1
    assert K.in_train_phase(lambda: "train", "test", training=True) == "train"
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1 and K.in_train_phase(1, 2) == 1
    assert K.learning_phase() == 0
    with pytest.raises(ValueError, match="0 \\(test\\) or 1 \\(train\\)"):
        K.set_learning_phase(2)


def test_k_ctc_functions_use_softmax_outputs_and_the_last_class_as_blank(quiet):
    # uniform 0.25 over 4 classes, 6 steps, label [1, 2]: Keras 2 (log(p + eps) as logits) gives 4.0692706
    cost = np_(K.ctc_batch_cost(np.array([[1, 2]]), np.full((1, 6, 4), 0.25, "float32"), np.array([[6]]),
                                np.array([[2]])))
    assert cost.shape == (1, 1) and cost[0, 0] == pytest.approx(4.0692706, rel=1e-5)
    probs = np.eye(4, dtype="float32")[[1, 1, 3, 2, 3, 0]][None] * 0.9 + 0.025  # blank = class 3
    decoded, log_prob = K.ctc_decode(probs, np.array([6]))
    assert len(decoded) == 1 and np_(decoded[0]).tolist() == [[1, 2, 0, -1, -1, -1]]
    assert np_(log_prob)[0, 0] == pytest.approx(-6 * np.log(0.925), rel=1e-5)


def test_k_function_runs_the_graph_with_the_learning_phase_as_an_input(quiet):
    inp = lamina.Input((4,))
    hidden = layers.Dense(3, name="h")(inp)
    out = layers.Dense(2)(layers.Dropout(0.5)(hidden))
    model = lamina.Model(inp, out)
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    get_hidden = K.function([model.input], [model.get_layer("h").output])
    result = get_hidden([x])
    w, b = model.get_layer("h").get_weights()
    assert isinstance(result, list) and len(result) == 1 and isinstance(result[0], np.ndarray)
    np.testing.assert_allclose(result[0], x @ w + b, rtol=1e-5, atol=1e-6)
    with_phase = K.function([model.input, K.learning_phase()], [model.output])
    np.testing.assert_allclose(with_phase([x, 0])[0], model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(with_phase([x, 1])[0], with_phase([x, 0])[0])  # dropout in training
    assert isinstance(K.function(model.input, model.output)(x), np.ndarray)
    with pytest.raises(ValueError, match="updates"):
        K.function([model.input], [model.output], updates=[(1, 2)])


def test_keras2_vae_sampling_lambda_trains(quiet):
    def sampling(args):
        z_mean, z_log_var = args
        batch, dim = K.shape(z_mean)[0], K.int_shape(z_mean)[1]
        return z_mean + K.exp(0.5 * z_log_var) * K.random_normal(shape=(batch, dim))

    inp = lamina.Input((6,))
    z_mean, z_log_var = layers.Dense(2)(inp), layers.Dense(2)(inp)
    z = layers.Lambda(sampling)([z_mean, z_log_var])
    vae = lamina.Model(inp, layers.Dense(6)(z))
    vae.compile("adam", "mse")
    data = np.random.default_rng(0).random((32, 6)).astype("float32")
    hist = vae.fit(data, data, epochs=2, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))


# ---- 4. implementation=, BatchNormalization(renorm=...) ---------------------------------------------------------

def test_rnn_implementation_argument_is_accepted_as_keras():
    lstm = layers.LSTM(2, implementation=2)
    assert lstm.cell.implementation == 2 and "implementation" not in lstm.get_config()  # not saved, as Keras 3
    assert layers.GRU(2, implementation=1).cell.implementation == 1
    assert layers.LSTM(2, implementation=2, recurrent_dropout=0.1).cell.implementation == 1  # Keras's rule
    assert layers.LSTMCell(2, implementation=1).implementation == 1
    x = np.ones((2, 3, 4), "float32")
    a, b = layers.GRU(2, implementation=1, seed=1), layers.GRU(2, seed=1)
    a.build((None, 3, 4))
    b.build((None, 3, 4))
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(np_(a(x)), np_(b(x)), rtol=1e-6)  # same math
    with pytest.warns(DeprecationWarning, match="implementation"):  # Keras 2 accepted it on SimpleRNN
        layers.SimpleRNN(2, implementation=2)
    with pytest.raises(ValueError, match="implementation"):
        layers.LSTM(2, implementation=3)


def _np_renorm_reference(xs, gamma, beta, momentum, renorm_momentum, clip, eps=1e-3):
    """Keras 3.15's BatchNormalization(renorm=True) training steps, in NumPy."""
    n = xs[0].shape[1]
    mm, mv, ms = np.zeros(n), np.ones(n), np.ones(n)
    rm, rs = np.zeros(n), np.ones(n)
    outs = []
    for x in xs:
        mean, var = x.mean(0), x.var(0)
        std = np.sqrt(var + eps)
        r = std / np.maximum(rs, np.sqrt(eps))
        d = (mean - rm) / np.maximum(rs, np.sqrt(eps))
        if "rmin" in clip:
            r = np.maximum(r, clip["rmin"])
        if "rmax" in clip:
            r = np.minimum(r, clip["rmax"])
        if "dmax" in clip:
            d = np.clip(d, -clip["dmax"], clip["dmax"])
        outs.append((x - mean) / np.sqrt(var + eps) * (r * gamma) + (d * gamma + beta))
        rm, rs = rm * renorm_momentum + mean * (1 - renorm_momentum), rs * renorm_momentum + std * (1 - renorm_momentum)
        mm = mm * momentum + mean * (1 - momentum)
        ms = ms * momentum + std * (1 - momentum)
        mv = np.maximum(ms * ms - eps, 0)
    return outs, (mm, mv, ms, rm, rs)


@pytest.mark.parametrize("clip", [{}, {"rmax": 1.5, "rmin": 0.8, "dmax": 0.3}])
def test_batch_renormalization_matches_keras_formulas(clip):
    rng = np.random.default_rng(0)
    xs = [(rng.normal(size=(8, 3)) * (i + 1) + i).astype("float32") for i in range(4)]
    gamma, beta = np.array([1.0, 2.0, 0.5], "float32"), np.array([0.1, -0.2, 0.3], "float32")
    bn = layers.BatchNormalization(renorm=True, renorm_clipping=clip, renorm_momentum=0.9, momentum=0.8)
    bn.build((None, 3))
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance", "moving_stddev",
                                            "renorm_mean", "renorm_stddev"]  # Keras's order (weight files)
    bn.gamma.assign(gamma)
    bn.beta.assign(beta)
    outs = [np_(bn(x, training=True)) for x in xs]
    ref_outs, ref_stats = _np_renorm_reference(xs, gamma, beta, 0.8, 0.9, clip)
    for out, ref in zip(outs, ref_outs):
        np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-5)
    stats = [bn.moving_mean, bn.moving_variance, bn.moving_stddev, bn.renorm_mean, bn.renorm_stddev]
    for got, ref in zip(stats, ref_stats):
        np.testing.assert_allclose(np_(got), ref, rtol=2e-5, atol=2e-5)
    mm, mv = ref_stats[0], ref_stats[1]
    np.testing.assert_allclose(np_(bn(xs[0], training=False)), (xs[0] - mm) / np.sqrt(mv + 1e-3) * gamma + beta,
                               rtol=2e-5, atol=2e-5)  # inference: the moving statistics, as without renorm


def test_batch_renormalization_config_and_errors():
    config = layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 3.0}, renorm_momentum=0.9).get_config()
    assert (config["renorm"], config["renorm_clipping"], config["renorm_momentum"]) == (True, {"rmax": 3.0}, 0.9)
    again = layers.BatchNormalization.from_config(config)
    assert again.renorm and again.renorm_clipping == {"rmax": 3.0}
    plain = layers.BatchNormalization().get_config()
    assert (plain["renorm"], plain["renorm_clipping"], plain["renorm_momentum"]) == (False, None, 0.99)
    assert layers.BatchNormalization(renorm=True).renorm_clipping == {}
    with pytest.raises(ValueError, match="renorm_clipping must be a dict"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmaxx": 1.0})
    with pytest.raises(ValueError, match="rmax >= rmin"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1.0, "rmin": 2.0})
    with pytest.raises(ValueError, match="dmax >= 0"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"dmax": -1.0})


def _renorm_model():
    inp = lamina.Input((5, 3))
    x = layers.Dense(4)(layers.Flatten()(inp))
    x = layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 2.0, "dmax": 1.0}, renorm_momentum=0.9)(x)
    return lamina.Model(inp, layers.Dense(1)(x))


def test_keras_written_renorm_weights_load_and_match_keras():
    expected = np.load(os.path.join(FIXTURES, "expected.npz"))
    model = _renorm_model()
    model.load_weights(os.path.join(FIXTURES, "renorm.weights.h5"))
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["renorm"], atol=1e-5)
    np.testing.assert_allclose(np_(model(expected["x"], training=True)), expected["renorm_train"], atol=1e-5)


def test_keras_written_renorm_model_file_loads(tmp_path):
    expected = np.load(os.path.join(FIXTURES, "expected.npz"))
    model = lamina.saving.load_model(os.path.join(FIXTURES, "renorm.keras"))
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["renorm"], atol=1e-5)
    model.save(tmp_path / "again.keras")
    again = lamina.saving.load_model(tmp_path / "again.keras")
    np.testing.assert_allclose(again.predict(expected["x"], verbose=0), expected["renorm"], atol=1e-5)


def test_model_with_fan_axes_initializer_saves_and_loads(tmp_path):
    inp = lamina.Input((3,))
    init = lamina.initializers.GlorotUniform(input_axes=[0], output_axes=[1])
    model = lamina.Model(inp, layers.Dense(2, kernel_initializer=init)(inp))
    model.save(tmp_path / "m.keras")
    again = lamina.saving.load_model(tmp_path / "m.keras")
    assert again.layers[1].kernel_initializer.input_axes == [0]


# ---- 5. Normalization.mean / .variance ---------------------------------------------------------------------------

def test_normalization_exposes_mean_and_variance_as_keras():
    layer = layers.Normalization()
    assert layer.mean is None
    layer.adapt(np.arange(12.0).reshape(4, 3))
    np.testing.assert_allclose(np_(layer.mean), [[4.5, 5.5, 6.5]])
    np.testing.assert_allclose(np_(layer.variance), [[11.25, 11.25, 11.25]])
    layer.adapt(np.arange(12.0).reshape(4, 3) * 2)  # re-adapting updates them
    np.testing.assert_allclose(np_(layer.mean), [[9.0, 11.0, 13.0]])
    multi = layers.Normalization(axis=(1, 2))
    multi.adapt(np.random.default_rng(0).random((5, 2, 3)))
    assert tuple(multi.mean.shape) == (1, 2, 3)
    given = layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 4.0])
    given.build((None, 2))
    np.testing.assert_allclose(np_(given.variance), [[1.0, 4.0]])


# ---- 6. contractions whose shapes do not fit --------------------------------------------------------------------

def test_matmul_like_ops_name_the_mismatched_dimensions():
    with pytest.raises(ValueError, match=r"ops.matmul: the inner dimensions must be equal.*3.*4.*\(None, 3\)"):
        ops.matmul(lamina.Input((3,)), lamina.Input((4, 2)))
    with pytest.raises(ValueError, match=r"ops.matmul: the inner dimensions.*x2.shape\[-2\] is 4"):
        ops.matmul(ops.ones((2, 3)), ops.ones((4, 2)))
    with pytest.raises(ValueError, match="batch dimensions"):
        ops.matmul(ops.ones((2, 2, 3)), ops.ones((3, 3, 2)))
    with pytest.raises(ValueError, match=r"ops.dot: the inner dimensions.*x2.shape\[0\] is 4"):
        ops.dot(ops.ones((2, 3)), ops.ones((4,)))
    with pytest.raises(ValueError, match=r"ops.tensordot: the contracted dimensions.*x1.shape\[1\] is 3"):
        ops.tensordot(ops.ones((2, 3)), ops.ones((4, 2)), axes=1)
    with pytest.raises(ValueError, match=r"ops.einsum: label 'j'.*size 3 in operand 0 but 4 in operand 1"):
        ops.einsum("ij,jk->ik", ops.ones((2, 3)), ops.ones((4, 2)))
    with pytest.raises(ValueError, match=r"ops.einsum: operand 1 has 3 dimensions"):
        ops.einsum("ij,jk->ik", lamina.Input((3,)), lamina.Input((4, 2)))
    assert tuple(ops.matmul(ops.ones((2, 3)), ops.ones((3, 2))).shape) == (2, 2)  # fitting shapes: unchanged


# ---- 7. config keys ---------------------------------------------------------------------------------------------

_ACTIVITY_LAYERS = {
    "Conv1D": lambda **k: layers.Conv1D(2, 2, **k), "Conv2D": lambda **k: layers.Conv2D(2, 2, **k),
    "Conv3D": lambda **k: layers.Conv3D(2, 2, **k), "Conv1DTranspose": lambda **k: layers.Conv1DTranspose(2, 2, **k),
    "Conv2DTranspose": lambda **k: layers.Conv2DTranspose(2, 2, **k),
    "Conv3DTranspose": lambda **k: layers.Conv3DTranspose(2, 2, **k),
    "SeparableConv1D": lambda **k: layers.SeparableConv1D(2, 2, **k),
    "SeparableConv2D": lambda **k: layers.SeparableConv2D(2, 2, **k),
    "DepthwiseConv1D": lambda **k: layers.DepthwiseConv1D(2, **k),
    "DepthwiseConv2D": lambda **k: layers.DepthwiseConv2D(2, **k),
    "LSTM": lambda **k: layers.LSTM(2, **k), "GRU": lambda **k: layers.GRU(2, **k),
    "SimpleRNN": lambda **k: layers.SimpleRNN(2, **k), "ConvLSTM1D": lambda **k: layers.ConvLSTM1D(2, 2, **k),
    "ConvLSTM2D": lambda **k: layers.ConvLSTM2D(2, 2, **k),
}


def _input_for(name):
    if name in ("LSTM", "GRU", "SimpleRNN"):
        return np.ones((2, 5, 3), "float32")
    rank = int(name[-2]) if name.endswith("D") else int(name[-11])  # Conv2D / Conv2DTranspose
    if name.startswith("ConvLSTM"):
        return np.ones((2, 3) + (6,) * rank + (3,), "float32")  # (batch, time, *spatial, channels)
    return np.ones((2,) + (6,) * rank + (3,), "float32")


@pytest.mark.parametrize("name", sorted(_ACTIVITY_LAYERS))
def test_activity_regularizer_is_in_the_config_and_survives_a_round_trip(name):
    make = _ACTIVITY_LAYERS[name]
    assert make().get_config()["activity_regularizer"] is None  # always present, as Keras 3
    config = make(activity_regularizer="l2").get_config()
    assert config["activity_regularizer"]["class_name"] == "L2"
    restored = type(make()).from_config(config)
    restored(_input_for(name))
    assert len(restored.losses) == 1 and float(np_(restored.losses[0])) > 0


def test_variance_scaling_fan_axes_as_keras():
    init = lamina.initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=1,
                                               input_axes=[0], output_axes=[1, 2])
    w = np_(init((8, 2, 4)))
    limit = np.sqrt(3.0 / 8)  # fan_in = 8 (axis 0); the default rule would give 2 * 8 = 16
    assert np.abs(w).max() <= limit + 1e-6 and np.abs(w).max() > np.sqrt(3.0 / 16)
    assert init.get_config()["input_axes"] == [0] and init.get_config()["output_axes"] == [1, 2]
    glorot = lamina.initializers.GlorotUniform(seed=2, input_axes=[0], output_axes=[1])
    assert glorot.get_config() == {"seed": 2, "input_axes": [0], "output_axes": [1]}
    assert lamina.initializers.GlorotUniform.from_config(glorot.get_config()).output_axes == [1]
    with pytest.raises(ValueError, match="input_axes"):
        lamina.initializers.HeNormal(input_axes="0")
    with pytest.raises(ValueError, match="must be axes of the weight's shape"):
        lamina.initializers.HeNormal(input_axes=[5], output_axes=[0])((2, 3))


def test_keras2_vae_sampling_lambda_on_a_list_with_output_shape():
    from lamina import layers as L, ops as O

    def sampling(args):
        z_mean, z_log_var = args
        return z_mean + O.exp(0.5 * z_log_var) * lamina.random.normal(O.shape(z_mean))

    inp = lamina.Input((4,))
    z_mean, z_log_var = L.Dense(2)(inp), L.Dense(2)(inp)
    z = L.Lambda(sampling, output_shape=(2,))([z_mean, z_log_var])
    assert tuple(z.shape) == (None, 2)
    assert tuple(L.Lambda(sampling, output_shape=lambda shapes: shapes[0])([z_mean, z_log_var]).shape) == (None, 2)
    assert lamina.Model(inp, z).predict(np.ones((3, 4), "float32"), verbose=0).shape == (3, 2)


def test_utils_normalize_keeps_float64():
    from lamina.utils import normalize

    x = np.arange(6.0).reshape(2, 3)
    out = normalize(x)
    assert out.dtype == np.float64  # as Keras
    np.testing.assert_allclose(out, x / np.linalg.norm(x, axis=-1, keepdims=True))
    assert normalize([[3, 4]]).dtype == np.float32
    np.testing.assert_allclose(normalize([[3, 4]]), [[0.6, 0.8]], rtol=1e-6)
