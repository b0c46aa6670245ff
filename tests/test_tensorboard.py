"""lamina.callbacks.TensorBoard: event files written during a real fit, read back with TensorBoard's own reader."""

import io
import os
import sys

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

import lamina
from lamina import callbacks, layers


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _model(lr=0.05):
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


def _read(run_dir):
    """{tag: [(step, ndarray), ...]} of every summary in the run's event files."""
    acc = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}


def _series(events, tag):
    return [s for s, _ in events[tag]], [float(v) for _, v in events[tag]]


def test_epoch_scalars_equal_history_and_log_dir_is_created(tmp_path):
    x, y = _data()
    log_dir = tmp_path / "runs" / "exp1"  # does not exist yet
    model = _model()
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_data=_data(16, seed=1),
                     callbacks=[callbacks.TensorBoard(log_dir=str(log_dir))])
    assert sorted(os.listdir(log_dir)) == ["train", "validation"]
    train, val = _read(log_dir / "train"), _read(log_dir / "validation")
    for name in ("loss", "mae"):
        steps, values = _series(train, f"epoch_{name}")
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, hist.history[name], rtol=1e-6)
        steps, values = _series(val, f"epoch_{name}")  # no val_ prefix in the validation run
        assert steps == [0, 1, 2]
        np.testing.assert_allclose(values, hist.history[f"val_{name}"], rtol=1e-6)
    steps, lrs = _series(train, "epoch_learning_rate")
    assert steps == [0, 1, 2]
    np.testing.assert_allclose(lrs, 0.05, rtol=1e-6)
    # Every evaluation is also logged against the optimizer's iterations (3 batches per epoch).
    steps, values = _series(val, "evaluation_loss_vs_iterations")
    assert steps == [3, 6, 9]
    np.testing.assert_allclose(values, hist.history["val_loss"], rtol=1e-6)
    # By default: no batch logs, no histograms, no speed.
    assert not [t for t in train if t.startswith("batch_") or t.endswith("/histogram") or "steps_per" in t]
    assert not any(t.startswith("val_") or t.startswith("epoch_val") for t in list(train) + list(val))


def test_histograms_of_every_weight(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=3, verbose=0,
              callbacks=[callbacks.TensorBoard(log_dir=str(tmp_path), histogram_freq=2)])
    train = _read(tmp_path / "train")
    weights = {w.path: np.asarray(w.numpy()) for w in model.weights}
    assert sorted(t for t in train if t.endswith("/histogram")) == sorted(f"{p}/histogram" for p in weights)
    for path, value in weights.items():
        events = train[f"{path}/histogram"]
        assert [s for s, _ in events] == [0, 2]  # every 2 epochs
        buckets = events[-1][1]  # written at the end of the last epoch: the final weights
        assert buckets.shape[1] == 3 and buckets[:, 2].sum() == value.size
        if value.min() < value.max():
            np.testing.assert_allclose([buckets[0, 0], buckets[-1, 1]], [value.min(), value.max()], rtol=1e-6)


def test_weight_images(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[callbacks.TensorBoard(log_dir=str(tmp_path), histogram_freq=1, write_images=True)])
    train = _read(tmp_path / "train")
    (tag,) = [t for t in train if t.endswith("dense/kernel/image")]  # under the model's name, as Keras's path
    content = train[tag][0][1]  # [width, height, png...]
    kernel = np.asarray(model.layers[0].kernel.numpy())  # (3, 4): shown as 3 rows of 4 pixels
    assert (int(content[0]), int(content[1])) == (4, 3)
    img = np.asarray(Image.open(io.BytesIO(content[2])))
    assert img.shape == (3, 4)
    assert img.flat[np.argmax(kernel)] == 255 and img.flat[np.argmin(kernel)] == 0


@pytest.mark.parametrize("update_freq", ["batch", 1])
def test_batch_scalars_every_batch(tmp_path, update_freq):
    x, y = _data()
    hist = _model().fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[
        callbacks.TensorBoard(log_dir=str(tmp_path), update_freq=update_freq, write_steps_per_second=True)])
    train = _read(tmp_path / "train")
    steps, losses = _series(train, "batch_loss")
    assert steps == [1, 2, 3, 4, 5, 6]  # global batch count, over both epochs
    # The running mean after an epoch's last batch is that epoch's loss.
    np.testing.assert_allclose([losses[2], losses[5]], hist.history["loss"], rtol=1e-6)
    assert _series(train, "batch_mae")[0] == steps
    assert _series(train, "batch_steps_per_second")[0] == steps
    speeds = _series(train, "epoch_steps_per_second")[1]
    assert len(speeds) == 2 and all(v > 0 for v in speeds)


def test_batch_logs_read_from_device_only_when_written(tmp_path, monkeypatch):
    x, y = _data(96)

    def fetches(**tb_args):
        model = _model()
        model.fit(x[:16], y[:16], epochs=1, verbose=0)  # build and compile the steps first
        calls = []
        original = model._current_logs
        monkeypatch.setattr(model, "_current_logs", lambda **kw: calls.append(1) or original(**kw))
        cbs = [callbacks.TensorBoard(log_dir=str(tmp_path / str(len(os.listdir(tmp_path)))), **tb_args)] \
            if tb_args else []
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=cbs)
        return len(calls)

    base = fetches()
    # update_freq="epoch" adds no batch hook, so the loop reads logs once per epoch, as with no callback.
    assert fetches(update_freq="epoch") == base
    assert not callbacks.CallbackList([callbacks.TensorBoard(str(tmp_path / "x"))]).needs_batch_logs(
        "on_train_batch_end")
    # update_freq=5: the logs are read once per batch log written, no more.
    n = fetches(update_freq=5)
    events = _read(tmp_path / str(len(os.listdir(tmp_path)) - 1) / "train")
    steps = _series(events, "batch_loss")[0]
    assert n - base == len(steps) and 1 <= len(steps) <= 4  # 24 batches: steps 5, 10, 15, 20 (or block ends)
    assert all(b // 5 > a // 5 for a, b in zip([0] + steps, steps))


@pytest.mark.parametrize("bad", ["sometimes", 0, -2, 1.5, True, None])
def test_bad_update_freq(bad):
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch' or a positive integer"):
        callbacks.TensorBoard(update_freq=bad)


@pytest.mark.parametrize("arg", ["histogram_freq", "embeddings_freq"])
def test_bad_epoch_freq(arg):
    with pytest.raises(ValueError, match=f"{arg} must be a non-negative integer"):
        callbacks.TensorBoard(**{arg: -1})


def test_profile_batch_is_accepted_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="lamina does no profiling, so profile_batch=2 is ignored"):
        tb = callbacks.TensorBoard(log_dir=str(tmp_path), profile_batch=2, write_graph=False)
    x, y = _data()
    _model().fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[tb])
    assert "epoch_loss" in _read(tmp_path / "train")


def test_missing_tensorboard_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError, match=r"pip install tensorboard"):
        callbacks.TensorBoard()


def test_evaluate_alone_logs_against_iterations(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    loss, mae = model.evaluate(x, y, verbose=0, callbacks=[callbacks.TensorBoard(log_dir=str(tmp_path))])
    val = _read(tmp_path / "validation")
    assert _series(val, "evaluation_loss_vs_iterations") == ([6], [pytest.approx(loss, rel=1e-6)])
    assert _series(val, "evaluation_mae_vs_iterations") == ([6], [pytest.approx(mae, rel=1e-6)])


def test_embeddings_projector_files(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 10, size=(32, 4)), rng.normal(size=(32, 1)).astype("float32")
    model = lamina.Sequential([lamina.Input((4,), dtype="int32"), layers.Embedding(10, 3, name="emb"),
                               layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[callbacks.TensorBoard(
        log_dir=str(tmp_path), embeddings_freq=1, embeddings_metadata={"emb": "labels.tsv"})])
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (info,) = config.embeddings
    assert info.tensor_name == f"{model.name}/emb/embeddings"  # the variable's path, as Keras's
    assert (list(info.tensor_shape), info.metadata_path) == ([10, 3], "labels.tsv")
    table = np.loadtxt(tmp_path / info.tensor_path, delimiter="\t")
    np.testing.assert_allclose(table, np.asarray(model.layers[0].embeddings.numpy()), rtol=1e-6)
    with pytest.raises(ValueError, match="not Embedding layers of the model.*'nope'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.TensorBoard(
            log_dir=str(tmp_path / "b"), embeddings_freq=1, embeddings_metadata={"nope": "m.tsv"})])


def test_deepcopy_before_fit_keeps_its_own_batch_hook(tmp_path):
    import copy

    tb = copy.deepcopy(callbacks.TensorBoard(log_dir=str(tmp_path), update_freq=1))
    assert tb.on_train_batch_end.__self__ is tb
    x, y = _data()
    _model().fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[tb])
    assert _series(_read(tmp_path / "train"), "batch_loss")[0] == [1, 2, 3]


def test_runs_with_gradient_accumulation(tmp_path):
    # With gradient_accumulation_steps, optimizer.iterations is a tensor counting updates (as in Keras), not a
    # Variable: the callback reads it as such (its steps per second count updates then, as Keras's do).
    x, y = _data()
    model = lamina.Sequential([lamina.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=lamina.optimizers.SGD(0.05, gradient_accumulation_steps=2), loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[
        callbacks.TensorBoard(log_dir=str(tmp_path), update_freq="batch", write_steps_per_second=True)])
    train = _read(tmp_path / "train")
    assert _series(train, "batch_loss")[0] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert len(_series(train, "epoch_loss")[1]) == 2
    assert int(lamina.ops.convert_to_numpy(model.optimizer.iterations)) == 6
