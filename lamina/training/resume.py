"""Where ``fit`` is in its training run, and how it resumes there (used by ``BackupAndRestore``).

``fit`` keeps a ``LoopPosition`` in ``model._train_loop`` while it runs. It holds the
host random generator that shuffles the arrays, and its state at the start of the
current epoch, so a backup taken in the middle of an epoch can recreate that epoch's
batch order. A callback calls ``resume_at`` in ``on_train_begin``; ``fit`` then starts at
the saved epoch, shuffles it as the interrupted run did, restores the metric
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
        self.epoch_rng_state = copy.deepcopy(rng.bit_generator.state)
        self._pending = None

    # ---- asked by callbacks ----------------------------------------------------

    def resume_at(self, epoch, step=0, host_rng_state=None, metric_values=None):
        """Ask ``fit`` to start at batch ``step`` of ``epoch`` (0-based), with the host generator in
        ``host_rng_state`` (its state at the start of that epoch) and, when ``step > 0``, the metric
        accumulators holding ``metric_values`` (in the order of ``model.metrics_variables``)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"resume_at: epoch must be a non-negative int, but received {epoch!r}.")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"resume_at: step must be a non-negative int, but received {step!r}.")
        self._pending = {"epoch": epoch, "step": step, "host_rng_state": host_rng_state,
                         "metric_values": metric_values}

    def next_epoch_rng_state(self):
        """The generator's state for the epoch after the current one (valid at the end of an epoch)."""
        return copy.deepcopy(self.rng.bit_generator.state)

    # ---- used by fit -----------------------------------------------------------

    def first_epoch(self, initial_epoch):
        """The epoch to start at: the resume point's when a callback set one, else ``initial_epoch``."""
        if self._pending is None:
            return initial_epoch
        state = self._pending["host_rng_state"]
        if state is not None:
            self.rng.bit_generator.state = state  # validated by NumPy (ValueError/TypeError when foreign)
        return self._pending["epoch"]

    def begin_epoch(self, model, epoch):
        """Start ``epoch`` (after the metrics were reset); return how many of its batches to skip."""
        self.epoch = epoch
        self.epoch_rng_state = copy.deepcopy(self.rng.bit_generator.state)
        pending, self._pending = self._pending, None
        if pending is None or pending["epoch"] != epoch or not pending["step"]:
            return 0
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
        return pending["step"]

    def epoch_order(self, num_samples, shuffle):
        """The sample order of this epoch: a permutation drawn from the host generator when shuffling."""
        if shuffle:
            return self.rng.permutation(num_samples)
        return np.arange(num_samples)
