"""The part of the training loop that reads iterable sources (generators, PyDataset, DataLoader).

Batches are read and placed on the device ahead of the step (``prefetch.for_steps``: a background
``Prefetcher``, or for cheap sources under PyTorch's eager steps the training thread itself); the step
function runs them with ``run_batches`` (train/test) or ``predict_batch``.
"""

import warnings

from lamina.training.data_adapters import prefetch


def run_epoch(model, fn, data, cbs, per_call, steps, kind, needs_logs, skip=0, pass_offset=0):
    """One pass of training (``kind="train"``) or evaluation (``"test"``); returns the steps run.

    ``skip``: leave out the epoch's first ``skip`` batches, and ``pass_offset``: begin that many batches into
    a new pass over the data (resuming an interrupted run; exact when the source yields the same batches in
    the same order again, e.g. a PyDataset, whose batches are then not even read)."""
    begin = cbs.on_train_batch_begin if kind == "train" else cbs.on_test_batch_begin
    end = cbs.on_train_batch_end if kind == "train" else cbs.on_test_batch_end
    data.on_epoch_begin()
    batches = data.epoch_batches(steps, skip=skip, pass_offset=pass_offset)
    pre = prefetch.for_steps(fn, batches, group=per_call)
    step = skip
    try:
        for placed, n in pre:
            begin(step)
            fn.run_batches(placed)
            step += n
            end(step - 1, model._current_logs() if needs_logs else None)
            if kind == "train" and model.stop_training:
                break
    finally:
        pre.close()
    data.on_epoch_end()
    if step == 0:
        what = "so training stops" if kind == "train" else "so there is nothing to evaluate"
        warnings.warn(
            f"{data.who}: the {data.source_name} produced no batches in this epoch (it is exhausted; a Python "
            f"generator can be read only once), {what}. Use a generator that loops forever with "
            f"{'steps_per_epoch' if kind == 'train' else 'validation_steps'}, or a re-iterable source such as "
            "a lamina.utils.PyDataset.",
            stacklevel=3,
        )
    return step


def predict_batches(fn, data, cbs, steps):
    """Run ``predict`` over an iterable source; returns the list of per-batch outputs."""
    outputs = []
    data.on_epoch_begin()
    inputs_only = ((x, None, None) for x, _, _ in data.epoch_batches(steps))
    pre = prefetch.for_steps(fn, inputs_only, group=1)
    step = 0
    try:
        for placed, _ in pre:
            cbs.on_predict_batch_begin(step)
            outputs.append(fn.predict_batch(placed))
            cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})  # as Keras: the batch's outputs
            step += 1
    finally:
        pre.close()
    data.on_epoch_end()
    return outputs
