"""LambdaCallback: a callback built from plain functions."""

from lamina.callbacks.callback import Callback

_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class LambdaCallback(Callback):
    """A callback whose hooks are the functions you pass.

    Every ``on_*`` hook of ``Callback`` may be given. Epoch hooks are called
    as ``f(epoch, logs)``, batch hooks as ``f(batch, logs)``, and the
    begin/end hooks of train/test/predict as ``f(logs)``.

    Args:
        on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
        on_train_batch_begin, on_train_batch_end: the functions of Keras's
            signature; ``**kwargs`` takes the other ``on_*`` hooks
            (``on_test_begin``, ``on_predict_batch_end``, ``on_batch_end``, ...).

    Example:
    >>> import numpy as np, lamina
    >>> model = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> cb = lamina.callbacks.LambdaCallback(
    ...     on_epoch_end=lambda epoch, logs: print("end of epoch", epoch),
    ...     on_train_end=lambda logs: print("done"))
    >>> _ = model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=2, callbacks=[cb], verbose=0)
    end of epoch 0
    end of epoch 1
    done
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        unknown = sorted(k for k in kwargs if k not in _HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback got unexpected keyword argument(s) {unknown}. Accepted: the "
                            f"hooks {', '.join(_HOOKS)}.")
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: `{name}` must be a function, but received {fn!r:.100} "
                                f"of type {type(fn).__name__}.")
            setattr(self, name, fn)
