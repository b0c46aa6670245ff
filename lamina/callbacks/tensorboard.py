"""TensorBoard: write the logs of training (and weight histograms) as TensorBoard event files.

The files are written with the ``tensorboard`` package's own writer (its
``EventFileWriter`` and summary protos), an optional dependency imported only when
the callback is created.
"""

import io
import numbers
import os
import time
import warnings

import numpy as np

from lamina.callbacks.callback import Callback
from lamina.distribution import _loop as distribution_loop

_INSTALL_HINT = "Install it with `pip install tensorboard` (or `pip install lamina[tensorboard]`)."
_MAX_IMAGES = 3  # images per weight, as tf.summary.image's default max_outputs


def _tensorboard():
    """The parts of the ``tensorboard`` package the callback uses (imported on use; Python caches modules)."""
    return _TB()


class _TB:
    def __init__(self):
        try:
            from tensorboard.compat.proto import event_pb2, summary_pb2
            from tensorboard.plugins.histogram import summary_v2 as histogram_summary
            from tensorboard.plugins.image import metadata as image_metadata
            from tensorboard.plugins.scalar import summary_v2 as scalar_summary
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
            from tensorboard.util import tensor_util
        except ImportError as e:
            raise ImportError(
                f"lamina.callbacks.TensorBoard needs the `tensorboard` package to write event files, but it "
                f"could not be imported ({e}). {_INSTALL_HINT}") from e
        self.Event = event_pb2.Event
        self.Summary = summary_pb2.Summary
        self.EventFileWriter = EventFileWriter
        self.scalar_pb = scalar_summary.scalar_pb
        self.histogram_pb = histogram_summary.histogram_pb
        self.image_metadata = image_metadata
        self.tensor_util = tensor_util


class TensorBoard(Callback):
    """Write logs for TensorBoard: epoch (and batch) metrics, learning rate, weight histograms.

    Event files go to ``log_dir/train`` and ``log_dir/validation``; view them with
    ``tensorboard --logdir log_dir``. At each epoch end the train run gets
    ``epoch_loss``, ``epoch_<metric>`` and ``epoch_learning_rate`` (when the optimizer
    has a learning rate), and the validation run gets the ``val_`` logs under the same
    names (``epoch_loss``...). Every evaluation also writes
    ``evaluation_<metric>_vs_iterations`` (step: the optimizer's iterations).

    Args:
        log_dir: the directory to write to (created when needed).
        histogram_freq: every this many epochs, write a histogram of each weight, tagged
            ``<weight path>/histogram`` (0: never).
        write_graph: accepted for compatibility; lamina writes no graph.
        write_images: with ``histogram_freq``, also write the weights as images
            (``<weight path>/image``, each scaled to the full grey range).
        write_steps_per_second: also write the training speed (``epoch_steps_per_second``,
            and ``batch_steps_per_second`` when batch logs are written).
        update_freq: ``"epoch"`` (default), ``"batch"`` or an integer N: also write
            ``batch_<metric>`` every N training batches (step: the global batch count).
            The running metrics are read from the device only for the batches written.
            When several steps run per compiled call (``steps_per_execution``, or the
            JAX backend's automatic blocks of steps) with N > 1, a batch log is written at
            the end of the block that reaches a multiple of N, with that block's step.
        profile_batch: accepted for compatibility; lamina does no profiling and warns when
            it is set (use the engine's profiler: ``torch.profiler`` or ``jax.profiler``).
        embeddings_freq: every this many epochs, write the weights of each ``Embedding``
            layer as a TSV file and a ``projector_config.pbtxt`` for TensorBoard's projector.
        embeddings_metadata: a metadata file for the projector: one path for every
            ``Embedding`` layer, or a dict from layer name to path.

    Raises:
        ImportError: when the ``tensorboard`` package is not installed.
        ValueError: for an invalid ``update_freq``, ``histogram_freq`` or ``embeddings_freq``.

    Example:
    >>> import lamina, numpy as np, tempfile
    >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> logs = tempfile.mkdtemp()
    >>> _ = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0,
    ...               callbacks=[lamina.callbacks.TensorBoard(log_dir=logs)])
    >>> import os; os.listdir(logs)
    ['train']
    """

    _chief_only = True  # in a multi-process run only rank 0 writes

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        _tensorboard()  # fail now, with the install hint, when tensorboard is missing
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_freq(histogram_freq, "histogram_freq")
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.profile_batch = profile_batch
        if profile_batch:
            warnings.warn(f"TensorBoard: lamina does no profiling, so profile_batch={profile_batch!r} is ignored. "
                          "Use the engine's profiler (torch.profiler or jax.profiler) instead.", stacklevel=2)
        self.embeddings_freq = _check_freq(embeddings_freq, "embeddings_freq")
        self.embeddings_metadata = embeddings_metadata
        if update_freq == "batch":
            update_freq = 1
        if not (isinstance(update_freq, str) and update_freq == "epoch") and (
                isinstance(update_freq, bool) or not isinstance(update_freq, numbers.Integral) or update_freq < 1):
            raise ValueError(
                "TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer (write batch logs "
                f"every that many batches), but received update_freq={update_freq!r}.")
        self.update_freq = update_freq if update_freq == "epoch" else int(update_freq)
        if self.update_freq != "epoch":
            # Only then is there a batch hook (with "epoch" the loop keeps its fast path). With
            # N == 1 every batch's logs are written, so the loop hands them over; otherwise they
            # are read only for the batches written.
            self.on_train_batch_end = self._on_train_batch_end
            self._lazy_batch_logs = self.update_freq > 1
        self._writers = {}
        self._global_batch = 0  # training batches before the current epoch, over this fit
        self._last_batch_written = 0
        self._last_batch_time = None
        self._in_train = False

    # --- writers ------------------------------------------------------------------------------
    def _writer(self, run):
        w = self._writers.get(run)
        if w is None:
            w = _tensorboard().EventFileWriter(os.path.join(self.log_dir, run))
            self._writers[run] = w
        return w

    def _write(self, run, summary, step):
        self._writer(run).add_event(_tensorboard().Event(wall_time=time.time(), step=int(step), summary=summary))

    def _scalars(self, run, values, step, prefix):
        for name, value in values.items():
            try:
                value = float(np.asarray(value))
            except (TypeError, ValueError):
                continue  # not a number (e.g. a string a callback put in the logs)
            self._write(run, _tensorboard().scalar_pb(f"{prefix}{name}", np.float32(value)), step)

    def _close_writers(self):
        for w in self._writers.values():
            w.close()
        self._writers = {}

    def _flush(self):
        for w in self._writers.values():
            w.flush()

    # --- hooks ------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._in_train = True
        self._global_batch = 0
        self._last_batch_written = 0
        self._writer("train")
        if self.embeddings_freq:
            self._write_projector_config()

    def on_train_end(self, logs=None):
        self._in_train = False
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_batches = 0
        if self.write_steps_per_second:
            self._epoch_start = time.time()
            self._epoch_start_iterations = self._iterations()
        self._last_batch_time = time.time()

    def _on_train_batch_end(self, batch, logs=None):
        self._epoch_batches = batch + 1
        step = self._global_batch + batch + 1
        if step // self.update_freq <= self._last_batch_written // self.update_freq:
            return
        if not logs:  # the loop read no logs for this batch (they were not asked for): read them only now
            logs = self.model._current_logs()
        values = dict(logs)
        now = time.time()
        if self.write_steps_per_second and self._last_batch_time is not None and now > self._last_batch_time:
            done = step - max(self._last_batch_written, self._global_batch)
            values["steps_per_second"] = done / (now - self._last_batch_time)
        self._scalars("train", values, step, "batch_")
        self._last_batch_written = step
        self._last_batch_time = now

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        lr = self._learning_rate()
        if lr is not None:
            train["learning_rate"] = lr
        if self.write_steps_per_second:
            elapsed, now_iterations = time.time() - self._epoch_start, self._iterations()
            if elapsed > 0 and now_iterations is not None and self._epoch_start_iterations is not None:
                train["steps_per_second"] = (now_iterations - self._epoch_start_iterations) / elapsed
        self._scalars("train", train, epoch, "epoch_")
        if val:
            self._scalars("validation", val, epoch, "epoch_")
        if self.reads_weights_at(epoch):
            # Sharded variables (ModelParallel on PyTorch) are gathered once here, every process taking part
            # (the other ranks run a WeightReadPeer of this callback); otherwise this does nothing.
            with distribution_loop.whole_weights(self.model):
                if self.histogram_freq and epoch % self.histogram_freq == 0:
                    self._write_weights(epoch)
                if self.embeddings_freq and epoch % self.embeddings_freq == 0:
                    self._write_embeddings()
        if self.update_freq != "epoch":
            self._global_batch += self._epoch_batches
        self._flush()

    def on_test_end(self, logs=None):
        step = self._iterations()
        if logs and step is not None:
            self._scalars("validation", {f"{k}_vs_iterations": v for k, v in logs.items()}, step,
                          "evaluation_")
        if not self._in_train:  # a plain evaluate(): nothing more will be written
            self._close_writers()
        else:
            self._flush()

    def reads_weights_at(self, epoch):
        """Whether the end of ``epoch`` writes weight histograms or embeddings (reading the weights)."""
        return bool((self.histogram_freq and epoch % self.histogram_freq == 0) or
                    (self.embeddings_freq and epoch % self.embeddings_freq == 0))

    # --- values -------------------------------------------------------------------------------------
    def _optimizer(self):
        return getattr(self.model, "optimizer", None) if self.model is not None else None

    def _iterations(self):
        opt = self._optimizer()
        it = getattr(opt, "iterations", None)
        if it is None:
            return None
        from lamina import ops  # a Variable, or with gradient accumulation a tensor (the update count)

        return int(ops.convert_to_numpy(it))

    def _learning_rate(self):
        opt = self._optimizer()
        if opt is None or not hasattr(opt, "learning_rate"):
            return None
        from lamina.callbacks.reduce_lr_on_plateau import _current_lr

        return _current_lr(self.model)

    def _weights(self):
        seen = set()
        for layer in self.model.layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    yield w.path.replace(":", "_"), np.asarray(w.numpy())

    def _write_weights(self, epoch):
        for name, value in self._weights():
            self._write("train", _tensorboard().histogram_pb(f"{name}/histogram", value), epoch)
            if self.write_images:
                images = _weight_images(value)
                if images is not None:
                    self._write("train", self._image_summary(f"{name}/image", images), epoch)

    def _image_summary(self, tag, images):
        from PIL import Image  # pillow is a dependency of tensorboard

        encoded = []
        for img in images[:_MAX_IMAGES]:
            buf = io.BytesIO()
            Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(buf, format="PNG")
            encoded.append(buf.getvalue())
        content = np.array([str(images.shape[2]).encode(), str(images.shape[1]).encode()] + encoded, dtype=object)
        summary = _tensorboard().Summary()
        summary.value.add(tag=tag, metadata=_tensorboard().image_metadata.create_summary_metadata(None, None),
                          tensor=_tensorboard().tensor_util.make_tensor_proto(content))
        return summary

    # --- embeddings projector -----------------------------------------------------------------------
    def _embedding_layers(self):
        from lamina.layers.core.embedding import Embedding

        return [layer for layer in self.model.layers if isinstance(layer, Embedding)]

    def _write_projector_config(self):
        from google.protobuf import text_format
        from tensorboard.plugins.projector import projector_config_pb2

        meta = self.embeddings_metadata
        layers = self._embedding_layers()
        if isinstance(meta, dict):
            unknown = sorted(set(meta) - {layer.name for layer in layers})
            if unknown:
                raise ValueError(
                    f"TensorBoard: embeddings_metadata names layers that are not Embedding layers of the model: "
                    f"{unknown}. Embedding layers: {[layer.name for layer in layers]}.")
        config = projector_config_pb2.ProjectorConfig()
        for layer in layers:
            info = config.embeddings.add()
            info.tensor_name = layer.embeddings.path
            info.tensor_shape.extend(int(d) for d in layer.embeddings.shape)
            info.tensor_path = f"{layer.name}.embeddings.tsv"
            path = meta if isinstance(meta, str) else (meta or {}).get(layer.name)
            if path:
                info.metadata_path = os.fspath(path)
        _atomic_write(os.path.join(self.log_dir, "projector_config.pbtxt"), text_format.MessageToString(config))

    def _write_embeddings(self):
        for layer in self._embedding_layers():
            values = np.asarray(layer.embeddings.numpy(), dtype=np.float64)
            text = "\n".join("\t".join(repr(float(x)) for x in row) for row in values) + "\n"
            _atomic_write(os.path.join(self.log_dir, f"{layer.name}.embeddings.tsv"), text)


def _check_freq(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"TensorBoard: {name} must be a non-negative integer (a number of epochs; 0: never), "
                         f"but received {name}={value!r}.")
    return value


def _atomic_write(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _weight_images(w):
    """A weight as a batch of grey images ``(n, height, width, 1)`` in uint8, or None (no image form)."""
    w = np.squeeze(w)
    if w.ndim == 1:  # a bias: one column
        imgs = w.reshape(1, -1, 1)
    elif w.ndim == 2:  # a dense kernel, its longer side across
        imgs = (w.T if w.shape[0] > w.shape[1] else w)[None]
    elif w.ndim in (3, 4):  # a convolution kernel (channels last): one image per filter (and input channel)
        imgs = np.moveaxis(w.reshape(w.shape[0], w.shape[1], -1) if w.ndim == 4 else w, -1, 0)
    else:
        return None
    imgs = imgs.astype(np.float64)
    lo = imgs.min(axis=(1, 2), keepdims=True)
    span = imgs.max(axis=(1, 2), keepdims=True) - lo
    scaled = np.where(span > 0, (imgs - lo) / np.where(span > 0, span, 1.0), 0.5)
    return np.round(scaled * 255).astype(np.uint8)[..., None]
