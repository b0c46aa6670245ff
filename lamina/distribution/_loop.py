"""What the shared training loop asks of a distributed run (no-ops on one process).

The engines differ in where cross-process work happens: PyTorch processes each
accumulate metrics over their own share of the batches, so epoch logs sum the
accumulators over processes; on JAX the compiled step already computes over the
global (sharded) batch, so there is nothing to sum.
"""

import contextlib

import numpy as np

from lamina import backend

from lamina.distribution import _engine


def agree_on_seed(seed):
    """Rank 0's shuffling seed on every process, so all walk the same global batches."""
    return _engine().agree_on_int(seed)


def is_chief():
    return _engine().process_index() == 0


def for_other_ranks(callbacks):
    """The callbacks a process other than rank 0 runs: those that write only on rank 0 (``_chief_only``) are left
    out, except that one reading the weights at an epoch's end (``TensorBoard``'s histograms) is replaced by a
    ``WeightReadPeer``: with sharded variables that read is a collective every process must join, in the same
    order as the other collectives of the callbacks (``ModelCheckpoint``'s)."""
    out = []
    for c in callbacks:
        if not getattr(c, "_chief_only", False):
            out.append(c)
        elif hasattr(c, "reads_weights_at"):
            from lamina.callbacks.callback import WeightReadPeer

            out.append(WeightReadPeer(c))
    return out


def whole_weights(model):
    """A context within which this process alone may read the whole values of the model's weights and its
    optimizer's variables (rank 0 writing a checkpoint): every process must enter it at the same point.

    With sharded variables (``ModelParallel`` on PyTorch) entering it gathers them, once, in one fixed order;
    otherwise (one process, data parallel, JAX) it does nothing."""
    if not active():
        return contextlib.nullcontext()
    gather = getattr(_engine(), "_whole_values", None)  # only engines that shard variables across processes
    if gather is None:
        return contextlib.nullcontext()
    variables = list(model.weights)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        variables += list(getattr(optimizer, "variables", None) or [])
    return gather(variables)


@contextlib.contextmanager
def summed_metrics(model):
    """Within the block, the model's metric accumulators hold their sums over all processes (every process
    must enter it at the same point); yields whether they were summed (False where each process already
    holds the global values: one process, JAX)."""
    variables = model.metrics_variables
    current = [v.value for v in variables]
    summed = _engine().sum_across_processes(current)
    if summed is current:
        yield False
        return
    local = [np.array(backend.convert_to_numpy(t)) for t in current]  # copies: assign may write in place
    for v, s in zip(variables, summed):
        v.assign(s)
    try:
        yield True
    finally:
        for v, value in zip(variables, local):
            v.assign(value)


def active():
    """Whether a distribution is set or several processes run (the loop's general paths handle those)."""
    from lamina import distribution

    if distribution._CURRENT is not None:
        return True
    return _engine().process_count() > 1
