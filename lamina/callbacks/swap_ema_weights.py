"""SwapEMAWeights: evaluate (and optionally checkpoint) with the optimizer's moving-average weights."""

from lamina import ops
from lamina.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swap the model's weights with the optimizer's exponential moving averages (EMA) around evaluation.

    Needs an optimizer created with ``use_ema=True``. Evaluation (the validation of
    ``fit``, and ``evaluate``/``predict`` when the callback is passed to them) runs with
    the EMA weights; training continues with the real weights, which are swapped back
    when the evaluation ends.

    With ``swap_on_epoch=True`` the EMA weights are also swapped in at each epoch's end,
    so that the callbacks after this one (e.g. ``ModelCheckpoint``) see them, and swapped
    back when the next epoch begins (or when training ends). Put this callback before
    the callbacks that should see the EMA weights.

    Args:
        swap_on_epoch: also swap at the ends and beginnings of epochs.

    Raises:
        ValueError: when the model's optimizer keeps no moving averages (``use_ema=False``).

    Example:
    >>> import lamina, numpy as np
    >>> model = lamina.Sequential([lamina.Input((2,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer=lamina.optimizers.SGD(use_ema=True), loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones((8, 1))
    >>> _ = model.fit(x, y, epochs=2, validation_data=(x, y), verbose=0,
    ...               callbacks=[lamina.callbacks.SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._swapped = False  # are the EMA weights in the model now?
        self._eval_swapped = False

    def _pairs(self):
        opt = getattr(self.model, "optimizer", None)
        if opt is None or not getattr(opt, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights needs an optimizer that keeps moving averages of the weights, but the model's "
                f"optimizer is {opt!r}" + (" (use_ema=False)" if opt is not None else "") + ". Compile the model "
                "with an optimizer created with `use_ema=True`, e.g. `lamina.optimizers.Adam(use_ema=True)`.")
        if not opt.built:
            opt.build(self.model.trainable_variables)
        averages = opt._model_variables_moving_average
        return [(v, averages[opt._get_variable_index(v)]) for v in opt._trainable_variables]

    def _swap(self):
        for var, avg in self._pairs():
            real = ops.copy(var.value)  # a copy: the torch backend assigns in place
            var.assign(avg.value)
            avg.assign(real)
        self._swapped = not self._swapped

    def _swap_in(self):
        """Put the EMA weights in the model; True when this call swapped them in."""
        if self._swapped:
            return False
        self._swap()
        return True

    def _swap_out(self):
        if self._swapped:
            self._swap()

    def on_train_begin(self, logs=None):
        self._pairs()  # check the optimizer before the first epoch

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_in()

    def before_ema_finalize(self):
        """Called by ``fit`` just before it writes the averages into the model: the real weights go back
        in, the averages back to the optimizer."""
        self._swap_out()

    def on_train_end(self, logs=None):
        self._swap_out()

    # An evaluation swaps back only what it swapped in (after an epoch's end with
    # swap_on_epoch=True, the EMA weights are already in and stay in).
    def on_test_begin(self, logs=None):
        self._eval_swapped = self._swap_in()

    def on_test_end(self, logs=None):
        if getattr(self, "_eval_swapped", False):
            self._swap_out()
        self._eval_swapped = False

    def on_predict_begin(self, logs=None):
        self._eval_swapped = self._swap_in()

    def on_predict_end(self, logs=None):
        if getattr(self, "_eval_swapped", False):
            self._swap_out()
        self._eval_swapped = False
