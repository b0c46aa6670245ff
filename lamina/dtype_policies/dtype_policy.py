"""The policy classes: ``DTypePolicy`` (float and mixed precision) and the quantized policies."""

from lamina.backend.common.dtypes import standardize_dtype

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
# The quantization modes Keras 3.15 names in policies, and those lamina's layers implement.
QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")
SUPPORTED_QUANTIZATION_MODES = ("int8", "int4")


def _parse(who, name):
    """``(compute dtype, variable dtype)`` of a float or mixed policy name."""
    if not isinstance(name, str):
        raise ValueError(f"{who}: name must be a string such as 'float32' or 'mixed_float16', but received "
                         f"{name!r}.")
    if name in _MIXED:
        return _MIXED[name], "float32"
    try:
        dtype = standardize_dtype(name)
    except (ValueError, TypeError):
        dtype = None
    if dtype is None or name.startswith(QUANTIZATION_MODES):
        raise ValueError(f"{who}: unknown policy {name!r}; expected a dtype name ('float32', 'bfloat16', ...), "
                         "'mixed_float16' / 'mixed_bfloat16', or a quantized name such as 'int8_from_float32'.")
    return dtype, dtype


class DTypePolicy:
    """A dtype policy named ``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``,
    ``"mixed_float16"`` or ``"mixed_bfloat16"`` (default: the global policy, ``floatx()``)."""

    def __init__(self, name=None):
        if name is None:
            from lamina.dtype_policies import dtype_policy

            name = dtype_policy().name
        self._compute_dtype, self._variable_dtype = _parse("DTypePolicy", name)
        self._name = name

    name = property(lambda self: self._name)
    compute_dtype = property(lambda self: self._compute_dtype)
    variable_dtype = property(lambda self: self._variable_dtype)

    @property
    def quantization_mode(self):
        """The quantization mode (``"int8"``, ``"int4"``), or None for a float policy."""
        return None

    @property
    def is_mixed(self):
        return self.compute_dtype != self.variable_dtype

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and type(other) is type(self) and other.name == self.name

    def __hash__(self):
        return hash((type(self).__name__, self.name))

    def __repr__(self):
        return f'<{type(self).__name__} "{self.name}">'


FloatDTypePolicy = DTypePolicy  # Keras 3.0-3.3 name


class QuantizedDTypePolicy(DTypePolicy):
    """The policy of a quantized layer: ``"<mode>_from_<source>"``, e.g. ``"int8_from_float32"``.

    The layer keeps quantized weights of ``mode`` and computes in the source policy's dtypes.

    Args:
        mode: ``"int8"`` or ``"int4"`` (per-channel int4; see ``Int4DTypePolicy`` for groups).
        source_name: the float policy the layer had (default: the global policy's name).

    Example:
    >>> import lamina
    >>> policy = lamina.dtype_policies.QuantizedDTypePolicy("int8", "mixed_bfloat16")
    >>> policy.name, policy.quantization_mode, policy.compute_dtype, policy.variable_dtype
    ('int8_from_mixed_bfloat16', 'int8', 'bfloat16', 'float32')
    """

    def __init__(self, mode, source_name=None):
        if source_name is None:
            from lamina.dtype_policies import dtype_policy

            source_name = dtype_policy().name
        who = type(self).__name__
        self._compute_dtype, self._variable_dtype = _parse(who, source_name)
        base = mode.split("/")[0] if isinstance(mode, str) else mode
        check_mode(who, base)
        if base == "int8" and self._compute_dtype == "float16":
            raise ValueError(f"{who}: quantization mode 'int8' does not work well with compute dtype 'float16' "
                             f"(source_name={source_name!r}); use 'mixed_bfloat16' or 'float32' instead.")
        self._name = f"{mode}_from_{source_name}"
        self._source_name = source_name
        self._quantization_mode = base

    @property
    def quantization_mode(self):
        return self._quantization_mode

    @property
    def source_name(self):
        return self._source_name

    def get_config(self):
        return {"mode": self._quantization_mode, "source_name": self._source_name}


class Int4DTypePolicy(QuantizedDTypePolicy):
    """The policy of an int4 layer with its group size: mode ``"int4/<block_size>"``.

    Args:
        mode: ``"int4/<block_size>"``: a positive group size (sub-channel, with zero points) or
            ``-1`` (per channel).
        source_name: the float policy the layer had (default: the global policy's name).

    Example:
    >>> import lamina
    >>> policy = lamina.dtype_policies.get("int4/128_from_float32")
    >>> type(policy).__name__, policy.block_size, policy.get_config()
    ('Int4DTypePolicy', 128, {'mode': 'int4/128', 'source_name': 'float32'})
    """

    def __init__(self, mode, source_name=None):
        parts = mode.split("/") if isinstance(mode, str) else []
        expected = "Int4DTypePolicy expected mode in the form 'int4/<block_size>' (e.g. 'int4/128', 'int4/-1')"
        if len(parts) != 2 or parts[0] != "int4":
            raise ValueError(f"{expected}, but received mode={mode!r}.")
        try:
            block_size = int(parts[1])
        except ValueError:
            raise ValueError(f"{expected}; <block_size> must be an integer, but received mode={mode!r}.") from None
        if block_size < -1 or block_size == 0:
            raise ValueError(f"{expected}; <block_size> must be -1 (per channel) or a positive integer, but "
                             f"received {block_size} in mode={mode!r}.")
        super().__init__(mode, source_name)
        self.block_size = block_size

    @property
    def mode(self):
        return "int4"

    def get_config(self):
        return {"mode": f"int4/{self.block_size}", "source_name": self._source_name}


def check_mode(who, mode):
    """Raise a clear ValueError unless lamina's layers implement quantization ``mode``."""
    if mode in SUPPORTED_QUANTIZATION_MODES:
        return
    if mode in QUANTIZATION_MODES:
        raise ValueError(f"{who}: quantization mode {mode!r} is a Keras 3 mode that lamina does not implement; "
                         f"lamina supports {list(SUPPORTED_QUANTIZATION_MODES)}.")
    raise ValueError(f"{who}: invalid quantization mode {mode!r}; expected one of "
                     f"{list(SUPPORTED_QUANTIZATION_MODES)}.")


def from_quantized_name(name):
    """The policy for a quantized name ``"<mode>_from_<source>"`` (``"int4/64_from_float32"``...)."""
    parts = name.split("_from_")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError(f"Cannot read the quantized dtype policy {name!r}: expected '<mode>_from_<source policy>', "
                         "such as 'int8_from_float32' or 'int4/128_from_mixed_bfloat16'.")
    mode, source = parts
    if mode.startswith("int4/"):
        return Int4DTypePolicy(mode, source)
    return QuantizedDTypePolicy(mode, source)


def is_quantized_name(name):
    return isinstance(name, str) and name.startswith(QUANTIZATION_MODES)
