"""CTC ops (``keras.ops.ctc_loss`` / ``ctc_decode``): argument checks, symbolic shapes, then the engine's kernels.

The engine functions live in ``lamina/backend/<engine>/nn_ctc.py``; this module checks what
can be checked from shapes alone (never reading a tensor value on the host) and gives
``KerasTensor`` outputs on symbolic inputs.
"""

import numpy as np

from lamina import backend
from lamina.backend.common.dtypes import standardize_dtype
from lamina.backend.common.keras_tensor import KerasTensor, any_symbolic
from lamina.ops.operation import FunctionOperation

_STRATEGIES = ("greedy", "beam_search")


def _shape(x):
    shape = getattr(x, "shape", None)
    return tuple(np.shape(x)) if shape is None else tuple(shape)


def _float_dtype(x):
    dtype = getattr(x, "dtype", None)
    dtype = standardize_dtype(dtype) if dtype is not None else "float32"
    return "float64" if dtype == "float64" else "float32"  # as Keras: at least float32


def _check_rank(who, name, x, rank, layout):
    shape = _shape(x)
    if len(shape) != rank:
        raise ValueError(f"{who}: `{name}` must have shape {layout} (rank {rank}), but received shape {shape}.")
    return shape


def _check_batch(who, shapes):
    known = {name: s[0] for name, s in shapes.items() if s[0] is not None}
    if len(set(known.values())) > 1:
        got = ", ".join(f"{n}.shape[0]={b}" for n, b in known.items())
        raise ValueError(f"{who}: all arguments must have the same batch size (first dimension), but received {got}.")


def _check_int(who, name, value, low, high=None):
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value < high
    if not ok:
        expected = f"an int in [{low}, {high})" if high is not None else f"an int >= {low}"
        raise ValueError(f"{who}: `{name}` must be {expected}, but received {name}={value!r}.")


def _check_loss_args(target, output, target_length, output_length, mask_index):
    who = "ctc_loss"
    shapes = {
        "target": _check_rank(who, "target", target, 2, "(batch_size, max_label_length)"),
        "output": _check_rank(who, "output", output, 3, "(batch_size, max_length, num_classes)"),
        "target_length": _check_rank(who, "target_length", target_length, 1, "(batch_size,)"),
        "output_length": _check_rank(who, "output_length", output_length, 1, "(batch_size,)"),
    }
    _check_batch(who, shapes)
    _check_int(who, "mask_index", mask_index, 0, shapes["output"][2])
    return shapes


def _check_decode_args(inputs, sequence_lengths, strategy, beam_width, top_paths, mask_index):
    who = "ctc_decode"
    if strategy not in _STRATEGIES:
        raise ValueError(f"{who}: `strategy` must be one of {list(_STRATEGIES)}, but received strategy={strategy!r}.")
    shapes = {
        "inputs": _check_rank(who, "inputs", inputs, 3, "(batch_size, max_length, num_classes)"),
        "sequence_lengths": _check_rank(who, "sequence_lengths", sequence_lengths, 1, "(batch_size,)"),
    }
    _check_batch(who, shapes)
    _check_int(who, "mask_index", mask_index, 0, shapes["inputs"][2])
    if strategy == "beam_search":
        _check_int(who, "beam_width", beam_width, 1)
        _check_int(who, "top_paths", top_paths, 1)
    return shapes


def _loss_spec(target, output, target_length, output_length, mask_index=0):
    shapes = _check_loss_args(target, output, target_length, output_length, mask_index)
    return KerasTensor((shapes["output"][0],), dtype=_float_dtype(output))


def _decode_spec(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
                 mask_index=0):
    shapes = _check_decode_args(inputs, sequence_lengths, strategy, beam_width, top_paths, mask_index)
    batch, max_length, _ = shapes["inputs"]
    paths = 1 if strategy == "greedy" else top_paths
    return (KerasTensor((paths, batch, max_length), dtype="int32"),
            KerasTensor((batch, paths), dtype=_float_dtype(inputs)))


class _CTCOperation(FunctionOperation):
    """The graph node of a CTC op on symbolic inputs: output shapes from the arguments, not from a trace.

    A ``FunctionOperation`` of the public op, so a Functional model that uses it saves and loads."""

    def __init__(self, fn, spec):
        from lamina.utils.naming import uniquify

        super().__init__(fn, uniquify(fn.__name__))
        self._spec = spec

    def compute_output_spec(self, *args, **kwargs):
        return self._spec(*args, **kwargs)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC (connectionist temporal classification) loss, one value per sample.

    The negative log-probability of the label sequence ``target`` under the per-step class
    distributions ``softmax(output)``, summed over every alignment (blanks between labels,
    repeated labels separated by a blank). A sample whose label cannot fit in its
    ``output_length`` steps gets ``inf``; a label class outside ``[0, num_classes)`` gives NaN.

    Args:
        target: integer labels, shape ``(batch_size, max_label_length)``; only the first
            ``target_length[i]`` entries of row ``i`` are read.
        output: logits (not softmax-normalized), shape ``(batch_size, max_length, num_classes)``.
        target_length: the label lengths, shape ``(batch_size,)``.
        output_length: the number of valid steps of each sample, shape ``(batch_size,)``.
        mask_index: the class index of the blank (default 0).

    Returns:
        The losses, shape ``(batch_size,)``, float32 (float64 for float64 logits).

    Raises:
        ValueError: for arguments of the wrong rank, different batch sizes or a ``mask_index``
            outside ``[0, num_classes)``.

    Example:
    >>> from lamina import ops
    >>> logits = ops.zeros((1, 2, 3))  # two steps, three classes, all equally likely
    >>> round(float(ops.ctc_loss([[1]], logits, [1], [2])[0]), 4)  # 3 alignments of 9: -log(3/9)
    1.0986
    """
    if any_symbolic((target, output, target_length, output_length), {}):
        return _CTCOperation(ctc_loss, _loss_spec).symbolic_call(target, output, target_length, output_length,
                                                                 mask_index=mask_index)
    _check_loss_args(target, output, target_length, output_length, mask_index)
    return backend.nn.ctc_loss(target, output, target_length, output_length, mask_index=int(mask_index))


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """Decode the output of a CTC model into label sequences.

    ``strategy="greedy"`` takes the best class at each step, drops repeats (when
    ``merge_repeated``) and blanks; its score is the negative sum of the best *logits*
    (as Keras). ``strategy="beam_search"`` is a CTC prefix beam search on
    ``log_softmax(inputs)`` keeping ``beam_width`` prefixes; it returns the ``top_paths`` most
    probable label sequences with their log-probabilities (``merge_repeated`` does not apply:
    repeats are always merged, as CTC defines). Steps at or beyond ``sequence_lengths[i]`` are ignored.

    Args:
        inputs: logits, shape ``(batch_size, max_length, num_classes)``.
        sequence_lengths: the number of valid steps per sample, shape ``(batch_size,)``.
        strategy: ``"greedy"`` (default) or ``"beam_search"``.
        beam_width: the number of prefixes kept by beam search (default 100).
        top_paths: the number of sequences beam search returns (default 1); paths beyond
            ``beam_width`` come back as all ``-1`` with score ``-inf``.
        merge_repeated: greedy only: merge repeated classes (default True).
        mask_index: the class index of the blank (default 0).

    Returns:
        A tuple ``(decoded, scores)``: ``decoded`` is int32 of shape ``(paths, batch_size, max_length)``
        (``paths`` is 1 for greedy, ``top_paths`` for beam search), each sequence left-aligned and
        padded with ``-1``; ``scores`` has shape ``(batch_size, paths)``.

    Raises:
        ValueError: for an unknown ``strategy``, arguments of the wrong rank or batch size, or a
            ``beam_width``/``top_paths``/``mask_index`` out of range.

    Example:
    >>> from lamina import ops
    >>> logits = ops.one_hot([[1, 1, 0, 2, 2]], 3)  # class 0 is the blank
    >>> decoded, scores = ops.ctc_decode(logits, [5])
    >>> ops.convert_to_numpy(decoded)[0].tolist()
    [[1, 2, -1, -1, -1]]
    >>> decoded, scores = ops.ctc_decode(logits, [5], strategy="beam_search", beam_width=4, top_paths=2)
    >>> ops.convert_to_numpy(decoded)[:, 0, :3].tolist()
    [[1, 2, -1], [1, 2, 1]]
    """
    if any_symbolic((inputs, sequence_lengths), {}):
        return _CTCOperation(ctc_decode, _decode_spec).symbolic_call(
            inputs, sequence_lengths, strategy=strategy, beam_width=beam_width, top_paths=top_paths,
            merge_repeated=merge_repeated, mask_index=mask_index)
    _check_decode_args(inputs, sequence_lengths, strategy, beam_width, top_paths, mask_index)
    if strategy == "beam_search":
        beam_width, top_paths = int(beam_width), int(top_paths)
    return backend.nn.ctc_decode(inputs, sequence_lengths, strategy=strategy, beam_width=beam_width,
                                 top_paths=top_paths, merge_repeated=bool(merge_repeated), mask_index=int(mask_index))
