"""``set_random_seed``: one call makes a CPU run repeatable."""

import random


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy, the engine and lamina's global SeedGenerator.

    Layers and initializers created afterwards draw their seeds from it, so two
    runs with the same seed give identical weights and results on CPU.

    Example:
    >>> import lamina
    >>> lamina.utils.set_random_seed(7); a = lamina.layers.Dense(2); a.build((None, 3))
    >>> lamina.utils.set_random_seed(7); b = lamina.layers.Dense(2); b.build((None, 3))
    >>> bool((a.kernel.numpy() == b.kernel.numpy()).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed expected a non-negative int, but received seed={seed!r}.")
    import numpy as np

    from lamina.backend import engine
    from lamina.random.random import set_global_seed

    random.seed(seed)
    np.random.seed(seed % 2**32)
    engine.random.seed_engine(seed)
    set_global_seed(seed)
