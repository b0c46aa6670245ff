"""The CTC (connectionist temporal classification) loss: ``ctc`` and ``CTC``, as ``keras.losses``."""

from lamina import ops
from lamina.losses.loss import LossFunctionWrapper


def ctc(y_true, y_pred):
    """CTC loss of padded integer label sequences under per-step class logits, one value per sample.

    As Keras: class ``0`` is the blank and also the padding of ``y_true`` (so it must not be
    used as a class); each label's length is its number of non-zero entries, and every
    sample uses all ``max_length`` steps of ``y_pred``. For other lengths or blank index, use
    ``lamina.ops.ctc_loss``. A label that cannot fit in the steps gives ``inf``.

    Args:
        y_true: integer labels, shape ``(batch_size, max_label_length)``, padded with 0.
        y_pred: logits (not softmax-normalized), shape ``(batch_size, max_length, num_classes)``.

    Returns:
        The losses, shape ``(batch_size,)``.

    Raises:
        ValueError: when ``y_true`` is not 2-D or ``y_pred`` is not 3-D.

    Example:
    >>> from lamina import losses, ops
    >>> logits = ops.zeros((1, 2, 3))  # two steps, three classes, all equally likely
    >>> ops.convert_to_numpy(losses.ctc([[1, 0]], logits)).round(4)  # 3 alignments of 9: -log(3/9)
    array([1.0986], dtype=float32)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) != 2:
        raise ValueError("ctc: targets `y_true` must be integer labels of shape (batch_size, max_label_length), "
                         f"padded with 0, but received y_true.shape={tuple(y_true.shape)}.")
    if len(y_pred.shape) != 3:
        raise ValueError("ctc: `y_pred` must be logits of shape (batch_size, max_length, num_classes), but "
                         f"received y_pred.shape={tuple(y_pred.shape)}.")
    labels = ops.cast(y_true, "int32")
    label_length = ops.sum(ops.cast(ops.not_equal(labels, 0), "int32"), axis=-1)
    batch, steps = ops.shape(y_pred)[0], ops.shape(y_pred)[1]
    output_length = ops.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(labels, y_pred, label_length, output_length, mask_index=0)


class CTC(LossFunctionWrapper):
    """CTC (connectionist temporal classification) loss, for sequence models without aligned targets.

    ``y_true`` holds integer label sequences padded with 0 (class 0 is the blank), shape
    ``(batch_size, max_label_length)``; ``y_pred`` holds the model's logits (no softmax),
    shape ``(batch_size, max_length, num_classes)``. See ``lamina.losses.ctc``.

    Args:
        reduction: see ``lamina.losses.Loss`` (default ``"sum_over_batch_size"``).
        name: the loss's name (default ``"ctc"``).
        dtype: the computation dtype (default ``floatx()``).

    Example:
    >>> import lamina
    >>> from lamina import ops
    >>> round(float(lamina.losses.CTC()([[1, 0]], ops.zeros((1, 2, 3)))), 4)
    1.0986
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)

    def _convert_y_true(self, y_true):
        return ops.convert_to_tensor(y_true)  # keep integer labels exact

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)
