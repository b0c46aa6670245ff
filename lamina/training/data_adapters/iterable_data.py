"""Iterable data sources: Python generators/iterators, ``PyDataset``, torch ``DataLoader``, any iterable.

Each adapter yields host batches ``(x, y, sample_weight)`` one epoch at a time, with
Keras's semantics for ``steps_per_epoch``: without it an epoch is one full pass; with
it the same iterator continues across epochs (a finite source starts over once it has
been read to its end), and a source that runs out early ends the epoch with a warning.
"""

import itertools
import warnings

import numpy as np

from lamina import backend, tree
from lamina.training.data import ArrayData
from lamina.training.data_adapters import batches as B
from lamina.training.data_adapters.workers import OrderedFetcher

_ARRAY_SIGNATURE = B.signature((np.zeros((1,)), None, None))[0]  # one NumPy array: (1, "ndarray")


def _to_numpy(a):
    return None if a is None else backend.convert_to_numpy(a)


class IterableData:
    """Base of the iterable adapters (``is_array`` is False: batches come one by one)."""

    is_array = False
    batch_size = None
    source_name = "iterable"
    _skips_by_index = False  # whether a new pass can start after N batches without reading them

    def __init__(self, source, who="fit", class_weight=None):
        self.source = source
        self.who = who
        self.class_weight = class_weight
        self._pending = None       # (first raw batch, rest of its iterator) after peek()
        self._current = None       # iterator continued across epochs (steps_per_epoch given)
        self._index = 0            # position of the next batch in the current iterator
        self._seen = 0             # batches read from the current iterator (known-length sources)
        self._signature = None
        self._sample = None
        self._shuffle_rng = None   # shuffles the batch order of each pass (sources read by index only)
        self.ran_out = False

    # -- what subclasses provide ---------------------------------------------------------------
    @property
    def num_batches(self):
        """Batches in one pass over the source; None when unknown or infinite."""
        return None

    @property
    def infinite(self):
        return False

    def _new_iterator(self):
        return iter(self.source)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

    def close(self):
        pass

    # -- shared machinery -----------------------------------------------------------------------
    def steps_for(self, steps):
        """The number of steps of one epoch (``None`` when it is only known at its end)."""
        if steps is not None:
            if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
                raise ValueError(f"{self.who}: the number of steps must be a positive int, but received {steps!r}.")
            return steps
        if self.infinite:
            arg = "steps_per_epoch" if self.who == "fit" else "steps"
            raise ValueError(
                f"{self.who}: the {self.source_name} is infinite (num_batches is None), so `{arg}` is required: "
                f"pass {arg}=N to say how many batches make one epoch."
            )
        return self.num_batches

    def set_shuffle(self, rng):
        """Shuffle the order of the batches of each pass with the NumPy generator ``rng`` (None: keep the
        source's order). Only a source read by index (a PyDataset) can; the others keep their order, as in
        Keras (a generator, or a DataLoader, which shuffles itself)."""
        self._shuffle_rng = rng

    def pass_position(self, steps):
        """Batches of the current pass read so far when the next epoch (``steps``: the user's steps_per_epoch)
        goes on with it; None when it starts a new pass, or when a resumed run could reach that point only by
        reading every batch before it from a source of unknown length (it then restarts the source, as a new
        pass)."""
        if steps is None or self._current is None:
            return None
        if self.num_batches is None and not self._skips_by_index:
            return None
        return self._seen

    def _positioned_iterator(self, skip):
        """A new pass over the source, without its first ``skip`` batches (read and dropped here; a source
        read by index does not read them)."""
        if self._pending is not None:
            first, rest = self._pending
            self._pending = None
            it = itertools.chain([first], rest)
        else:
            it = self._new_iterator()
        dropped = sum(1 for _ in itertools.islice(it, skip))
        return it, dropped

    def _take_iterator(self, skip=0):
        it, dropped = self._positioned_iterator(skip)
        self._index = self._seen = dropped
        return it

    def _source_index(self):
        """The index that names the batch being converted in messages (a PyDataset's own, when shuffled)."""
        return self._index

    def _convert(self, raw):
        plain = B.split_plain(raw)
        if plain is not None:  # plain NumPy arrays: nothing to convert, and the signature at once
            x, y, sw = plain
            sig = tuple(None if s is None else _ARRAY_SIGNATURE for s in plain)
        else:
            x, y, sw = B.split_batch(raw, self._source_index(), self.source_name)
            sig = B.signature((x, y, sw))
        if self._signature is None:
            self._signature = sig
        elif sig != self._signature:
            raise ValueError(
                f"{self.who}: batch {self._source_index()} from the {self.source_name} has the form "
                f"{B.describe(sig)} "
                f"with {sig}, but the first batch had {B.describe(self._signature)} with {self._signature}; "
                "every batch must have the same structure."
            )
        if self.class_weight is not None:
            from lamina.training.loop_utils import class_weights_to_sample_weights

            if y is None:
                raise ValueError(f"{self.who}: class_weight needs targets, but batch {self._source_index()} has "
                                 "no y.")
            sw = class_weights_to_sample_weights(y, self.class_weight, sw)
        return x, y, sw

    def _empty_error(self):
        return ValueError(
            f"{self.who}: the {self.source_name} produced no batches; there is nothing to "
            f"{'train' if self.who == 'fit' else 'run'} on."
        )

    def _peek_raw(self):
        """The first raw batch; kept, with the rest of its iterator, for the first epoch."""
        if self._pending is None:
            it = self._new_iterator()
            try:
                first = next(it)
            except StopIteration:
                raise self._empty_error() from None
            self._pending = (first, it)
        return self._pending[0]

    def peek(self):
        """The first batch, as a small ``ArrayData`` the model and metrics are built from (read once:
        a later call, e.g. validation at every epoch, must not take a batch from a running iterator)."""
        if self._sample is not None:
            return self._sample
        raw = self._peek_raw()
        index, self._index = self._index, 0
        # As host arrays: the model is built on them wherever the engine keeps its weights.
        x, y, sw = (None if p is None else tree.map_structure(_to_numpy, p) for p in self._convert(raw))
        self._index = index
        n = int(tree.flatten(x)[0].shape[0])
        self._sample = ArrayData(x, y, sw, batch_size=max(n, 1), who=self.who)
        return self._sample

    def epoch_batches(self, steps=None, skip=0, pass_offset=0):
        """Yield the host batches of one epoch (``steps``: the user's steps_per_epoch, or None).

        ``skip``: leave out the epoch's first ``skip`` batches; ``pass_offset``: the epoch begins that many
        batches into a new pass (both when resuming an interrupted run: exact when the source gives the same
        batches in the same order again, e.g. a PyDataset, shuffled or not)."""
        n = self.num_batches
        if steps is None:
            it, limit = self._take_iterator(pass_offset + skip), n
        else:
            if self._current is None:
                self._current = self._take_iterator(pass_offset + skip)
            elif skip:
                dropped = sum(1 for _ in itertools.islice(self._current, skip))
                self._index += dropped
                self._seen += dropped
            it, limit = self._current, steps
        done = skip
        while limit is None or done < limit:
            if steps is not None and n is not None and self._seen >= n:
                self._warn_ran_out(done, steps)
                break
            try:
                raw = next(it)
            except StopIteration:
                if steps is not None and done:  # (no batch at all: the training loop warns and stops)
                    self._warn_ran_out(done, steps)
                    self._current = None
                break
            yield self._convert(raw)
            done += 1
            self._index += 1
            self._seen += 1
        if steps is not None and n is not None and self._seen >= n:
            self._current = None  # a finite source starts over at the next epoch

    def _warn_ran_out(self, done, steps):
        self.ran_out = True
        warnings.warn(
            f"{self.who}: the {self.source_name} ran out of data after {done} of {steps} steps of this epoch; "
            "the epoch ends early. Make sure it can produce at least steps_per_epoch * epochs batches "
            "(or leave steps_per_epoch unset).",
            stacklevel=3,
        )


class GeneratorData(IterableData):
    """A Python generator or iterator: read once; its batches are not replayed across epochs."""

    source_name = "generator"

    def _new_iterator(self):
        return self.source


class IterableSourceData(IterableData):
    """Any re-iterable source of batches, e.g. ``torch.utils.data.DataLoader`` (a new pass each epoch)."""

    def __init__(self, source, who="fit", class_weight=None):
        super().__init__(source, who, class_weight)
        mod = type(source).__module__
        self.source_name = "DataLoader" if mod.startswith("torch.utils.data") else f"{type(source).__name__} iterable"

    @property
    def num_batches(self):
        try:
            return len(self.source)
        except TypeError:  # e.g. a DataLoader over an IterableDataset
            return None

    def _new_iterator(self):
        it = iter(self.source)
        if _tensor_loader(self.source) and hasattr(it, "_next_index"):
            return _tensor_batches(it, self.source.dataset.tensors)
        return it


def _tensor_loader(loader):
    """Whether ``loader`` is a plain ``torch.utils.data.DataLoader`` over a ``TensorDataset`` that collates
    with the default collate function in this process: then a batch is the dataset's tensors indexed by the
    batch's indices, read in one indexing operation per tensor instead of one per sample and a stack."""
    def exact(obj, module, name):
        return type(obj).__module__ == module and type(obj).__name__ == name

    collate = getattr(loader, "collate_fn", None)
    return (exact(loader, "torch.utils.data.dataloader", "DataLoader")
            and exact(getattr(loader, "dataset", None), "torch.utils.data.dataset", "TensorDataset")
            and getattr(collate, "__module__", "") == "torch.utils.data._utils.collate"
            and getattr(collate, "__name__", "") == "default_collate"
            and getattr(loader, "num_workers", 1) == 0 and not getattr(loader, "pin_memory", True)
            and getattr(loader, "batch_sampler", None) is not None)


def _tensor_batches(it, tensors):
    """The batches of a DataLoader iterator ``it`` over ``TensorDataset(*tensors)``: the DataLoader's own
    iterator draws the batch indices (its sampler, shuffling, generator and drop_last, and the same random
    numbers a plain iteration draws), and each batch is ``[t[indices] for t in tensors]`` - what the default
    collate function stacks from the samples, without the per-sample Python. A run of consecutive indices (an
    unshuffled loader) is a slice: the tensors' own memory, no copy."""
    while True:
        try:
            indices = it._next_index()
        except StopIteration:
            return
        start = indices[0] if len(indices) else 0
        if isinstance(start, int) and indices == list(range(start, start + len(indices))):
            yield [t[start:start + len(indices)] for t in tensors]
        else:
            yield [t[indices] for t in tensors]


class PyDatasetData(IterableData):
    """A ``lamina.utils.PyDataset``: batches by index, fetched ahead by worker threads or processes."""

    source_name = "PyDataset"
    _skips_by_index = True

    def __init__(self, source, who="fit", class_weight=None):
        super().__init__(source, who, class_weight)
        self._order = None  # the current pass's batch order when shuffled
        self.fetcher = OrderedFetcher(source, source.workers, source.use_multiprocessing, source.max_queue_size)

    @property
    def num_batches(self):
        n = self.source.num_batches
        return None if n is None else int(n)

    @property
    def infinite(self):
        return self.source.num_batches is None

    def _new_iterator(self):
        return self._positioned_iterator(0)[0]

    def _positioned_iterator(self, skip):
        # A new pass: its batch order is drawn here (shuffled as Keras shuffles a finite PyDataset at every
        # pass); the first ``skip`` batches are left out without being fetched.
        n = self.num_batches
        self._order = None
        if n is None:
            return self.fetcher.fetch(itertools.count(skip)), skip
        order = list(range(n))
        if self._shuffle_rng is not None:
            order = self._order = self._shuffle_rng.permutation(n).tolist()
        skip = min(skip, n)
        return self.fetcher.fetch(order[skip:]), skip

    def _source_index(self):
        order = self._order
        return order[self._index] if order is not None and self._index < len(order) else self._index

    def _peek_raw(self):
        if self.num_batches == 0:
            raise self._empty_error()
        return self.source[0]

    def set_shuffle(self, rng):
        # As Keras: fit(shuffle=True) shuffles the batch order of a PyDataset at every pass, but not of a
        # tf.data dataset; lamina's stand-ins for those (directory and timeseries datasets, split_dataset's)
        # keep their order, also when a model's string layers map them.
        super().set_shuffle(None if _keeps_batch_order(self.source) else rng)

    def on_epoch_begin(self):
        self.source.on_epoch_begin()

    def on_epoch_end(self):
        self.source.on_epoch_end()

    def close(self):
        self.fetcher.close()


def _keeps_batch_order(dataset):
    """Whether ``dataset``, or the dataset it maps (its ``source``), stands for a tf.data dataset."""
    for _ in range(32):  # a chain of mapped datasets
        if getattr(dataset, "_lamina_keeps_batch_order", False):
            return True
        dataset = getattr(dataset, "source", None)
        if dataset is None:
            return False
    return False
