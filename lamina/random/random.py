"""SeedGenerator and the public random functions."""

import random as _pyrandom

import numpy as np

from lamina import backend
from lamina.backend.common import scopes

_GLOBAL = {"generator": None, "draws": 0}


class SeedGenerator:
    """A source of seeds whose state is a Variable (role ``"seed"``).

    Each ``next()`` returns a new seed ``[seed, counter]`` and advances the
    counter, so successive draws differ while the whole sequence is fixed by
    ``seed``. Because the state is a Variable it is saved with a model and, on
    JAX, threaded through compiled training steps.

    Args:
        seed: an int, or None for a seed drawn from Python's ``random``.

    Example:
    >>> import lamina
    >>> gen = lamina.random.SeedGenerator(42)
    >>> x = lamina.random.uniform((3,), seed=gen)
    >>> lamina.ops.shape(x)
    (3,)
    """

    def __init__(self, seed=None, name=None):
        if seed is None:
            seed = _pyrandom.randint(1, 2**31 - 1)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"SeedGenerator expected an int seed or None, but received seed={seed!r}.")
        self.initial_seed = seed
        self.state = backend.Variable(
            [seed, 0], dtype="int64", trainable=False, role="seed", name=name or "seed_generator_state"
        )

    def next(self):
        seed, advanced = backend.random.advance_seed(self.state.value)
        self.state.assign(advanced)
        settle = getattr(backend.random, "_after_advance", None)  # PyTorch keeps the new state's ints on the host
        if settle is not None:
            settle(self.state.value, seed)
        return seed

    def get_config(self):
        return {"seed": self.initial_seed}


class _GlobalSeedGenerator(SeedGenerator):
    """The process-wide generator. Objects constructed without a seed (initializers, Dropout, ...) draw theirs
    from it; when that happens during symbolic shape inference (a layer that makes its sublayers in ``build``,
    built by a call on ``lamina.Input``), the draw still advances its real counter, so two sublayers made in
    one traced call get different seeds, as outside a trace. (A shape trace drops every other assignment.)"""

    def next(self):
        if not scopes.in_symbolic_scope():
            _GLOBAL["draws"] += 1
            return super().next()
        with scopes.suspended():
            return super().next()


def global_seed_generator():
    """Return the process-wide SeedGenerator used when ``seed=None``."""
    if _GLOBAL["generator"] is None:
        _GLOBAL["generator"] = _GlobalSeedGenerator()
    return _GLOBAL["generator"]


def set_global_seed(seed):
    """Reseed the global SeedGenerator with ``seed`` (see ``set_random_seed``). The generator stays the same
    object, so compiled steps that carry its state (JAX) keep drawing from it."""
    gen = _GLOBAL["generator"]
    if gen is None:
        _GLOBAL["generator"] = _GlobalSeedGenerator(seed)
        return
    if seed is None:
        seed = _pyrandom.randint(1, 2**31 - 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"SeedGenerator expected an int seed or None, but received seed={seed!r}.")
    gen.initial_seed = seed
    with scopes.suspended():
        gen.state.assign(backend.convert_to_tensor([seed, 0], "int64"))


def global_seed_draws():
    """How many seeds the global SeedGenerator has given (a compiled step compares it around its trace)."""
    return _GLOBAL["draws"]


def global_seed_state():
    """The global SeedGenerator's state Variable: a compiled step carries it, so ``seed=None`` draws inside
    it differ from call to call (JAX)."""
    return global_seed_generator().state


def draw_seed(seed):
    """Turn ``seed`` (int, None or SeedGenerator) into a backend seed tensor."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return global_seed_generator().next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return backend.convert_to_tensor([seed, 0], "int64")
    if backend.is_tensor(seed):
        return seed
    raise ValueError(
        f"seed must be an int, None or a lamina.random.SeedGenerator, but received {seed!r}."
    )


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.random.normal((2, 3), seed=0))
    (2, 3)
    """
    return backend.random.normal(shape, mean, stddev, dtype, draw_seed(seed))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples from a uniform distribution on ``[minval, maxval)``.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_numpy(lamina.random.uniform((100,), seed=0))
    >>> bool((x >= 0).all() and (x < 1).all())
    True
    """
    return backend.random.uniform(shape, minval, maxval, dtype, draw_seed(seed))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution cut at two standard deviations.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_numpy(lamina.random.truncated_normal((100,), seed=0))
    >>> bool(abs(x).max() <= 2.0)
    True
    """
    return backend.random.truncated_normal(shape, mean, stddev, dtype, draw_seed(seed))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Random integers in ``[minval, maxval)``.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_numpy(lamina.random.randint((50,), 0, 3, seed=0))
    >>> sorted(set(x.tolist())) == [0, 1, 2]
    True
    """
    return backend.random.randint(shape, minval, maxval, dtype, draw_seed(seed))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero a fraction ``rate`` of ``inputs`` and scale the rest by ``1 / (1 - rate)``.

    Example:
    >>> import lamina
    >>> y = lamina.ops.convert_to_numpy(lamina.random.dropout(lamina.ops.ones((1000,)), 0.5, seed=0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    return backend.random.dropout(inputs, rate, noise_shape, draw_seed(seed))


def shuffle(x, axis=0, seed=None):
    """Shuffle ``x`` along ``axis``.

    Example:
    >>> import lamina
    >>> sorted(lamina.ops.convert_to_numpy(lamina.random.shuffle([1, 2, 3], seed=0)).tolist())
    [1, 2, 3]
    """
    return backend.random.shuffle(x, axis, draw_seed(seed))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draw class indices from the categorical distributions given by ``logits``.

    Example:
    >>> import lamina
    >>> lamina.ops.shape(lamina.random.categorical([[0.0, 0.0]], 5, seed=0))
    (1, 5)
    """
    return backend.random.categorical(logits, num_samples, dtype, draw_seed(seed))


def _check_positive(who, name, value):
    """Python numbers and arrays are checked here (engine tensors may be traced values: not checkable)."""
    if np.any(np.asarray(value, dtype="float64") <= 0):
        raise ValueError(f"lamina.random.{who}: {name} must be > 0, but received {value!r}.")


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples from the Gamma distribution of shape ``alpha`` and scale 1.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_numpy(lamina.random.gamma((2000,), alpha=3.0, seed=0))
    >>> bool(2.7 < x.mean() < 3.3)
    True
    """
    if not backend.is_tensor(alpha):
        _check_positive("gamma", "alpha", alpha)
    return backend.random.gamma(shape, alpha, dtype, draw_seed(seed))


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples from the Beta distribution with parameters ``alpha`` and ``beta``, in ``[0, 1]``.

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_numpy(lamina.random.beta((2000,), alpha=2.0, beta=6.0, seed=0))
    >>> bool(0.2 < x.mean() < 0.3)
    True
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not backend.is_tensor(value):
            _check_positive("beta", name, value)
    return backend.random.beta(shape, alpha, beta, dtype, draw_seed(seed))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples from the Binomial distribution: successes in ``counts`` trials of probability
    ``probabilities`` (as floats of ``dtype``).

    Example:
    >>> import lamina
    >>> x = lamina.ops.convert_to_numpy(lamina.random.binomial((2000,), counts=10, probabilities=0.3, seed=0))
    >>> bool(2.7 < x.mean() < 3.3), float(x.max()) <= 10
    (True, True)
    """
    return backend.random.binomial(shape, counts, probabilities, dtype, draw_seed(seed))
