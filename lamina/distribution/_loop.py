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


def check_callbacks(callbacks):
    """Refuse, before training, callbacks that would read sharded weights on rank 0 alone (``TensorBoard``'s
    histograms and embeddings under ``ModelParallel`` on PyTorch): that read is a collective the other processes
    never join, so it would wait for the distributed timeout and then fail."""
    if not callbacks or not active():
        return
    shards = getattr(_engine(), "_shards_variables", None)
    if shards is None or not shards():
        return
    for c in callbacks:
        reads_weights = getattr(c, "histogram_freq", 0) or getattr(c, "embeddings_freq", 0)
        if getattr(c, "_chief_only", False) and reads_weights:
            raise ValueError(
                f"{type(c).__name__}(histogram_freq={getattr(c, 'histogram_freq', 0)}, embeddings_freq="
                f"{getattr(c, 'embeddings_freq', 0)}): writing weight histograms or embeddings reads the weights on "
                "rank 0 alone, which sharded variables (ModelParallel on PyTorch) do not support yet. Use "
                "histogram_freq=0 and embeddings_freq=0 (losses and metrics are still logged), or DataParallel.")


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
