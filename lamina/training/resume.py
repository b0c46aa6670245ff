"""Where ``fit`` is in its training run, and how it resumes there (used by ``BackupAndRestore``).

``fit`` keeps a ``LoopPosition`` in ``model._train_loop`` while it runs. It holds the
host random generator that shuffles the data, the generator's state from which the
current pass over the data drew its order, and how many batches of that pass earlier
epochs read (with ``steps_per_epoch`` an epoch may cover part of a pass, and the next
epoch goes on where it stopped, as in Keras). A backup taken at any point can so
recreate the batch order. A callback calls ``resume_at`` in ``on_train_begin``; ``fit``
then starts at the saved epoch, draws the pass's order again, restores the metric
accumulators and skips the batches already trained on.

Example:
>>> import numpy as np
>>> from lamina.training.resume import LoopPosition
>>> pos = LoopPosition(np.random.default_rng(0))
>>> first = pos.epoch_order(5, shuffle=True)
>>> again = LoopPosition(np.random.default_rng(1))
>>> again.resume_at(epoch=0, step=2, host_rng_state=pos.epoch_rng_state)
>>> again.first_epoch(0)
0
>>> bool((again.epoch_order(5, shuffle=True) == first).all())
True
"""

import copy

import numpy as np


class LoopPosition:
    """The epoch ``fit`` is in, its shuffling generator, and a pending resume point."""

    def __init__(self, rng):
        self.rng = rng
        self.epoch = 0
        # The generator's state from which the current epoch's pass drew its order (with steps_per_epoch, a
        # pass may have begun in an earlier epoch), and how many batches of that pass earlier epochs read.
        self.epoch_rng_state = copy.deepcopy(rng.bit_generator.state)
        self.pass_offset = 0
        self._next = None  # (state, offset) for the epoch after the current one, set by end_epoch
        self._pending = None

    # ---- asked by callbacks ----------------------------------------------------

    def resume_at(self, epoch, step=0, host_rng_state=None, metric_values=None, pass_offset=0):
        """Ask ``fit`` to start at batch ``step`` of ``epoch`` (0-based), with the host generator in
        ``host_rng_state`` (its state when the pass over the data that epoch is in began), ``pass_offset``
        batches of that pass read by earlier epochs, and, when ``step > 0``, the metric accumulators
        holding ``metric_values`` (in the order of ``model.metrics_variables``)."""
        for name, value in (("epoch", epoch), ("step", step), ("pass_offset", pass_offset)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"resume_at: {name} must be a non-negative int, but received {value!r}.")
        self._pending = {"epoch": epoch, "step": step, "host_rng_state": host_rng_state,
                         "metric_values": metric_values, "pass_offset": pass_offset}

    def backup_state(self, epoch_end=False):
        """What a backup stores to resume here: ``{"host_rng": ..., "pass_offset": ...}`` for a point inside
        the current epoch, or (``epoch_end=True``, after the epoch's last batch) for the start of the next."""
        if epoch_end:
            return {"host_rng": self.next_epoch_rng_state(), "pass_offset": self.next_pass_offset()}
        return {"host_rng": copy.deepcopy(self.epoch_rng_state), "pass_offset": self.pass_offset}

    def next_epoch_rng_state(self):
        """The generator's state for the epoch after the current one (valid at the end of an epoch)."""
        if self._next is not None:
            return copy.deepcopy(self._next[0])
        return copy.deepcopy(self.rng.bit_generator.state)

    def next_pass_offset(self):
        """Batches of its pass the epoch after the current one starts at (valid at the end of an epoch)."""
        return self._next[1] if self._next is not None else 0

    # ---- used by fit -----------------------------------------------------------

    def first_epoch(self, initial_epoch):
        """The epoch to start at: the resume point's when a callback set one, else ``initial_epoch``."""
        if self._pending is None:
            return initial_epoch
        state = self._pending["host_rng_state"]
        if state is not None:
            self.rng.bit_generator.state = state  # validated by NumPy (ValueError/TypeError when foreign)
        return self._pending["epoch"]

    def begin_epoch(self, model, epoch, continuing=None):
        """Start ``epoch`` (after the metrics were reset); return ``(pass_offset, skip)``: the batches of the
        data's pass that earlier epochs read, and how many of this epoch's batches to skip (both > 0 only
        when resuming, or, the first, when the epoch continues a pass).

        ``continuing``: the batches of the current pass read so far when this epoch goes on with it
        (``steps_per_epoch``), None when it starts a new pass (its order is drawn after this call)."""
        self.epoch = epoch
        self._next = None
        pending, self._pending = self._pending, None
        if pending is not None and pending["epoch"] == epoch:
            continuing = None  # a fresh fit: the pass is drawn again from the restored generator
        if continuing is None:
            self.epoch_rng_state = copy.deepcopy(self.rng.bit_generator.state)
        self.pass_offset = continuing or 0
        if pending is None or pending["epoch"] != epoch:
            return self.pass_offset, 0
        self.pass_offset = pending.get("pass_offset", 0)
        if not pending["step"]:
            return self.pass_offset, 0
        values = pending["metric_values"]
        if values is not None:
            variables = model.metrics_variables
            if len(values) != len(variables):
                raise ValueError(
                    f"Cannot resume training of model '{model.name}': the backup holds {len(values)} metric "
                    f"values but the compiled model has {len(variables)} metric variables. Compile the model "
                    "with the same loss and metrics as the interrupted run."
                )
            for v, value in zip(variables, values):
                v.assign(value)
        return self.pass_offset, pending["step"]

    def end_epoch(self, continuing=None):
        """After the epoch's last batch: ``continuing`` is the batches of the current pass read so far when
        the next epoch goes on with it, None when it starts a new pass."""
        if continuing is None:
            self._next = (copy.deepcopy(self.rng.bit_generator.state), 0)
        else:
            self._next = (copy.deepcopy(self.epoch_rng_state), continuing)

    def epoch_order(self, num_samples, shuffle):
        """The sample order of this epoch: a permutation drawn from the host generator when shuffling."""
        if shuffle:
            return self.rng.permutation(num_samples)
        return np.arange(num_samples)
