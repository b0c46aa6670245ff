"""Helpers of the training loop: batching, verbosity, validation data, class weights."""

import sys
import warnings

import numpy as np

from lamina import backend, config, tree


def first_batch(struct, batch_size):
    """The first batch: built on it, a wrong input shape is reported with the user's batch shape."""
    return tree.map_structure(lambda a: a[:batch_size] if a is not None else None, struct)


def resolve_verbose(verbose):
    """Keras's ``verbose="auto"``: a live bar (1) on a terminal, one line per epoch (2) otherwise."""
    if verbose == "auto":
        return 1 if (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()) else 2
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, but received verbose={verbose!r}.")
    return int(verbose)


def capped_epochs(epochs):
    """``epochs``, at most ``lamina.config.max_epochs()`` (a debugging cap), with a warning when it cuts."""
    cap = config.max_epochs()
    if cap is not None and epochs > cap:
        warnings.warn(f"fit: running {cap} epoch(s) instead of {epochs}: lamina.config.max_epochs() is {cap} "
                      "(set_max_epochs or LAMINA_MAX_EPOCHS).", stacklevel=4)  # the user's fit call
        return cap
    return epochs


def capped_steps(steps, who, warn=True):
    """``steps`` (None: the whole data), at most ``lamina.config.max_steps_per_epoch()``."""
    cap = config.max_steps_per_epoch()
    if cap is not None and (steps is None or steps > cap):
        if warn:
            warnings.warn(f"{who}: running at most {cap} step(s) per epoch: lamina.config.max_steps_per_epoch() "
                          f"is {cap} (set_max_steps_per_epoch or LAMINA_MAX_STEPS_PER_EPOCH).", stacklevel=4)
        return cap
    return steps


def host_seed():
    """An int seed for host-side shuffling, drawn from lamina's global SeedGenerator: it advances the generator,
    so successive ``fit`` calls shuffle differently (as in Keras), and ``set_random_seed`` repeats them all."""
    from lamina.random.random import global_seed_generator

    seed, counter = (int(v) for v in backend.convert_to_numpy(global_seed_generator().next()))
    return int(np.random.SeedSequence([seed % 2**63, counter]).generate_state(1)[0])


def index_blocks(order, batch_size, steps, steps_per_call, skip=0):
    """Yield lists of index arrays: ``steps_per_call`` full batches at a time; a short last batch alone.

    ``skip``: leave out the first ``skip`` batches (already trained on before a resume)."""
    batches = [order[i * batch_size:(i + 1) * batch_size] for i in range(skip, steps)]
    batches = [b for b in batches if len(b)]
    i = 0
    while i < len(batches):
        block = [batches[i]]
        i += 1
        while len(block) < steps_per_call and i < len(batches) and len(batches[i]) == len(block[0]):
            block.append(batches[i])
            i += 1
        yield block


class ArrayPasses:
    """The batches of array data, epoch by epoch, as Keras orders them.

    Without ``steps_per_epoch`` every epoch is one pass over the data, in a new order when shuffling. With
    it, an epoch reads ``steps_per_epoch`` batches and the next epoch goes on where it stopped; a new pass
    (reshuffled) begins once the data has been read to its end, and an epoch that reaches the end early is
    cut short there (e.g. 20 samples, batch_size=5, steps_per_epoch=3: batches 0-2 | 3 | 0-2).

    Example:
    >>> import numpy as np
    >>> passes = ArrayPasses(20, 5, steps_per_epoch=2, shuffle=False)
    >>> rng = np.random.default_rng(0)
    >>> epochs = []
    >>> for _ in range(3):
    ...     epochs.append(passes.epoch(rng)[1:]); _ = passes.end_epoch()
    >>> epochs
    [(0, 2), (2, 4), (0, 2)]
    """

    def __init__(self, num_samples, batch_size, steps_per_epoch, shuffle):
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.steps = -(-num_samples // batch_size)
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self.shuffle = shuffle
        self._order = None  # the current pass's sample order (None: the next epoch starts a new pass)
        self._done = 0      # batches of the current pass read by the epochs before
        self._stop = 0

    def continuing(self):
        """Batches of the current pass read so far when the next epoch goes on with it, else None."""
        return None if self._order is None else self._done

    def epoch(self, rng, pass_offset=0):
        """``(order, first, stop)``: this epoch runs the batches ``first <= i < stop`` of the pass whose
        sample order is ``order`` (drawn from ``rng`` when a new pass begins, which then starts at batch
        ``pass_offset``: resuming a pass an interrupted run had begun)."""
        if self._order is None:
            self._order = rng.permutation(self.num_samples) if self.shuffle else np.arange(self.num_samples)
            self._done = pass_offset
        first = self._done
        stop = self.steps if self.steps_per_epoch is None else min(self.steps, first + self.steps_per_epoch)
        self._stop = stop
        return self._order, first, stop

    def end_epoch(self):
        """After the epoch: the next one goes on with this pass, or (read to its end) starts a new one.
        Returns ``continuing()``."""
        self._done = self._stop
        if self.steps_per_epoch is None or self._done >= self.steps:
            self._order, self._done = None, 0
        return self.continuing()


def should_validate(epoch, freq):
    """Whether ``validation_freq`` (an int period or a list of epochs, 1-based) asks for validation now."""
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def class_weights_to_sample_weights(y, class_weight, sample_weight):
    """Per-sample weights from a ``{class: weight}`` dict (times ``sample_weight`` when given)."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("class_weight is only supported for models with a single output; use sample_weight.")
    y = np.asarray(backend.convert_to_numpy(y))
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0].astype(int)
    unknown = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if unknown:
        warnings.warn(f"class_weight has no entry for class(es) {unknown}; they get weight 1.0.")
    weights = np.array([float(class_weight.get(int(c), 1.0)) for c in labels], dtype=np.float32)
    if sample_weight is not None:
        weights = weights * np.asarray(backend.convert_to_numpy(sample_weight), dtype=np.float32).reshape(-1)
    return weights
