"""The ``Initializer`` base class and argument checks shared by all initializers."""

import numbers

from lamina.backend import standardize_dtype


def _name(obj):
    return obj if isinstance(obj, str) else type(obj).__name__


def check_number(owner, name, value, positive=False, non_negative=False):
    """Raise a ValueError naming ``owner`` unless ``value`` is a (suitably signed) number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{_name(owner)}: {name} must be a number, but received {name}={value!r}.")
    if positive and not value > 0:
        raise ValueError(f"{_name(owner)}: {name} must be positive, but received {name}={value!r}.")
    if non_negative and not value >= 0:
        raise ValueError(f"{_name(owner)}: {name} must be non-negative, but received {name}={value!r}.")
    return value


def check_choice(owner, name, value, choices):
    """Raise a ValueError naming ``owner`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(
            f"{_name(owner)}: {name} must be one of {list(choices)}, but received {name}={value!r}."
        )
    return value


def standardize_shape(owner, shape):
    """Return ``shape`` as a tuple of non-negative ints, or raise a ValueError naming ``owner``."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise ValueError(
            f"{_name(owner)}: shape must be a tuple of non-negative ints (fully known), "
            f"but received shape={shape!r}."
        )
    return tuple(int(d) for d in dims)


def float_dtype(owner, dtype):
    """Return the standardized float dtype name (``floatx()`` for None) or raise."""
    name = standardize_dtype(dtype)
    if name not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(
            f"{_name(owner)}: dtype must be a floating-point dtype, but received dtype={name!r}."
        )
    return name


class Initializer:
    """Base class of weight initializers.

    A subclass implements ``__call__(shape, dtype=None)``, returning a tensor of
    that shape and dtype, and ``get_config()`` when it takes arguments.

    Example:
    >>> import lamina.initializers
    >>> class Twos(lamina.initializers.Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return lamina.ops.full(shape, 2.0, dtype=dtype)
    >>> lamina.ops.convert_to_numpy(Twos()((2,))).tolist()
    [2.0, 2.0]
    """

    def __call__(self, shape, dtype=None):
        """Return a tensor of ``shape`` and ``dtype`` (default ``lamina.config.floatx()``)."""
        raise NotImplementedError(
            f"Initializer subclass {type(self).__name__} must implement `__call__(shape, dtype=None)`."
        )

    def get_config(self):
        """Return the constructor arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Create an initializer from the dict returned by ``get_config``.

        Example:
        >>> import lamina.initializers
        >>> init = lamina.initializers.Constant.from_config({"value": 3.0})
        >>> init.value
        3.0
        """
        return cls(**config)

    def clone(self):
        """Return a new initializer with the same configuration."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
