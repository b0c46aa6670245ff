"""Global configuration: backend choice, float type, epsilon, image data format.

The backend is read once, at import time, from the ``LAMINA_BACKEND`` environment
variable, else from ``~/.lamina/lamina.json`` (``{"backend": "jax"}``), else it is
``"torch"``. ``LAMINA_HOME`` moves the configuration folder.
"""

import json
import os

_BACKENDS = ("torch", "jax")
_DATA_FORMATS = ("channels_last", "channels_first")
_FLOATX_CHOICES = ("float16", "bfloat16", "float32", "float64")


def lamina_home():
    """Return the lamina home folder (``$LAMINA_HOME`` or ``~/.lamina``)."""
    return os.path.expanduser(os.environ.get("LAMINA_HOME", os.path.join("~", ".lamina")))


def _read_config_file():
    path = os.path.join(lamina_home(), "lamina.json")
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(
            f"lamina could not read its configuration file '{path}': {e}. "
            "Fix or delete the file."
        ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"lamina's configuration file '{path}' must hold a JSON object, "
            f"but it holds a {type(data).__name__}."
        )
    return data


def _initial_settings():
    data = _read_config_file()
    backend = os.environ.get("LAMINA_BACKEND") or data.get("backend", "torch")
    backend = str(backend).lower()
    if backend not in _BACKENDS:
        source = "LAMINA_BACKEND" if os.environ.get("LAMINA_BACKEND") else "lamina.json"
        raise ValueError(
            f"{source} asks for backend '{backend}', but lamina has the backends "
            f"{list(_BACKENDS)}."
        )
    return {
        "backend": backend,
        "floatx": data.get("floatx", "float32"),
        "epsilon": float(data.get("epsilon", 1e-7)),
        "image_data_format": data.get("image_data_format", "channels_last"),
    }


_SETTINGS = _initial_settings()


def backend():
    """Return the name of the engine lamina runs on: ``"torch"`` or ``"jax"``.

    Example:
    >>> import lamina
    >>> lamina.config.backend() in ("torch", "jax")
    True
    """
    return _SETTINGS["backend"]


def floatx():
    """Return the default float type, as a string (``"float32"`` unless changed).

    Example:
    >>> import lamina
    >>> lamina.config.floatx()
    'float32'
    """
    return _SETTINGS["floatx"]


def set_floatx(value):
    """Set the default float type (``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``).

    Example:
    >>> import lamina
    >>> lamina.config.set_floatx("float64"); lamina.config.floatx()
    'float64'
    >>> lamina.config.set_floatx("float32")
    """
    value = str(value)
    if value not in _FLOATX_CHOICES:
        raise ValueError(
            f"set_floatx expected one of {list(_FLOATX_CHOICES)}, but received '{value}'."
        )
    _SETTINGS["floatx"] = value


def epsilon():
    """Return the fuzz factor used in numeric expressions (default ``1e-7``).

    Example:
    >>> import lamina
    >>> lamina.config.epsilon()
    1e-07
    """
    return _SETTINGS["epsilon"]


def set_epsilon(value):
    """Set the fuzz factor used in numeric expressions.

    Example:
    >>> import lamina
    >>> lamina.config.set_epsilon(1e-5); lamina.config.epsilon()
    1e-05
    >>> lamina.config.set_epsilon(1e-7)
    """
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"set_epsilon expected a number, but received {value!r}.") from None
    if not value > 0:
        raise ValueError(f"set_epsilon expected a positive number, but received {value}.")
    _SETTINGS["epsilon"] = value


def image_data_format():
    """Return the default image layout: ``"channels_last"`` or ``"channels_first"``.

    Example:
    >>> import lamina
    >>> lamina.config.image_data_format()
    'channels_last'
    """
    return _SETTINGS["image_data_format"]


def set_image_data_format(data_format):
    """Set the default image layout (``"channels_last"`` or ``"channels_first"``).

    Example:
    >>> import lamina
    >>> lamina.config.set_image_data_format("channels_first")
    >>> lamina.config.image_data_format()
    'channels_first'
    >>> lamina.config.set_image_data_format("channels_last")
    """
    data_format = str(data_format).lower()
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"set_image_data_format expected one of {list(_DATA_FORMATS)}, "
            f"but received '{data_format}'."
        )
    _SETTINGS["image_data_format"] = data_format


def standardize_data_format(data_format):
    """Return ``data_format`` checked, or the global default when it is None."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"data_format must be one of {list(_DATA_FORMATS)}, but received '{data_format}'."
        )
    return data_format


_MATMUL_PRECISIONS = ("default", "high", "highest")


def float32_matmul_precision():
    """Return how float32 matrix products and convolutions run on GPUs (see ``set_float32_matmul_precision``).

    Example:
    >>> import lamina
    >>> lamina.config.float32_matmul_precision()
    'default'
    """
    return _SETTINGS.get("float32_matmul_precision", "default")


def set_float32_matmul_precision(precision):
    """Choose how float32 matrix products, convolutions and recurrent kernels run on GPUs.

    - ``"highest"``: full float32 arithmetic, the numbers the CPU (and NumPy) gives, on both engines.
    - ``"high"``: TensorFloat-32 on GPUs that have it (NVIDIA Ampere and newer): several times faster,
      with about 1e-3 relative error per product.
    - ``"default"``: each engine's own default. JAX uses TensorFloat-32 for float32 products and
      convolutions on such GPUs; PyTorch uses full float32 for matrix products and TensorFloat-32 in
      cuDNN's convolutions and recurrent kernels. So, on a GPU, float32 results of the two engines can
      differ by about 1e-4 relative unless this is ``"highest"``.

    On the CPU every choice computes full float32. Applies to the current backend, from now on.

    Example:
    >>> import lamina
    >>> lamina.config.set_float32_matmul_precision("highest")
    >>> lamina.config.float32_matmul_precision()
    'highest'
    >>> lamina.config.set_float32_matmul_precision("default")
    """
    value = str(precision).lower()
    if value not in _MATMUL_PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision expected one of {list(_MATMUL_PRECISIONS)}, "
                         f"but received {precision!r}.")
    from lamina.backend import core

    core.set_float32_matmul_precision(value)
    _SETTINGS["float32_matmul_precision"] = value


# ---- the rest of keras.config ------------------------------------------------------------------------------


def dtype_policy():
    """Return the global dtype policy (see ``lamina.dtype_policies``; ``floatx()`` unless changed).

    Example:
    >>> import lamina
    >>> lamina.config.dtype_policy().name
    'float32'
    """
    from lamina import dtype_policies

    return dtype_policies.dtype_policy()


def set_dtype_policy(policy):
    """Set the dtype policy of layers created from now on without a ``dtype`` (e.g. ``"mixed_float16"``).

    Example:
    >>> import lamina
    >>> lamina.config.set_dtype_policy("mixed_bfloat16")
    >>> lamina.layers.Dense(2).compute_dtype
    'bfloat16'
    >>> lamina.config.set_dtype_policy("float32")
    """
    from lamina import dtype_policies

    dtype_policies.set_dtype_policy(policy)


def enable_unsafe_deserialization():
    """Load Lambda layers whose functions are not registered, everywhere, as ``safe_mode=False`` does for one
    ``load_model`` call (their functions must still be given in ``custom_objects``: lamina never runs
    bytecode read from a file)."""
    _SETTINGS["safe_mode"] = False


def in_safe_mode(safe_mode=True):
    """The safe mode a load runs in: ``safe_mode`` unless ``enable_unsafe_deserialization`` was called."""
    return bool(safe_mode) and _SETTINGS.get("safe_mode", True)


def enable_flash_attention():
    """Let attention layers created from now on use a flash-attention kernel where the engine has one for
    the inputs (a GPU, float16/bfloat16); layers created with ``flash_attention=...`` keep their choice."""
    _SETTINGS["flash_attention"] = None


def disable_flash_attention():
    """Attention layers created from now on never use a flash-attention kernel (unless created with
    ``flash_attention=True``).

    Example:
    >>> import lamina
    >>> lamina.config.disable_flash_attention(); lamina.config.is_flash_attention_enabled()
    False
    >>> lamina.config.enable_flash_attention()
    """
    _SETTINGS["flash_attention"] = False


def is_flash_attention_enabled():
    """``False`` after ``disable_flash_attention()``; otherwise ``None``: the engine picks its fastest kernel
    (a flash kernel where it has one for the inputs)."""
    return _SETTINGS.get("flash_attention")


def is_nnx_enabled():
    """Always ``False``: lamina's JAX backend holds its variables itself, not in Flax NNX modules."""
    return False


def _env_limit(name):
    for key in (f"LAMINA_{name}", f"KERAS_{name}"):
        value = os.environ.get(key)
        if value:
            try:
                return _positive_or_none(int(value), key)
            except ValueError:
                raise ValueError(f"{key} must be a positive integer, but it is {value!r}.") from None
    return None


def _positive_or_none(value, who):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{who} expected a positive integer or None, but received {value!r}.")
    return value


def set_max_epochs(max_epochs):
    """Cap the number of epochs of every ``fit`` (for quick debugging runs; None: no cap). The environment
    variable ``LAMINA_MAX_EPOCHS`` (or ``KERAS_MAX_EPOCHS``) sets it for a whole program without editing it.

    Example:
    >>> import lamina
    >>> lamina.config.set_max_epochs(2); lamina.config.max_epochs()
    2
    >>> lamina.config.set_max_epochs(None)
    """
    _SETTINGS["max_epochs"] = _positive_or_none(max_epochs, "set_max_epochs")


def max_epochs():
    """The cap on the epochs of every ``fit`` (``set_max_epochs``), or None."""
    return _SETTINGS["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Cap the steps of every epoch of ``fit``, and of every ``evaluate`` and ``predict`` (None: no cap). The
    environment variable ``LAMINA_MAX_STEPS_PER_EPOCH`` (or ``KERAS_MAX_STEPS_PER_EPOCH``) sets it too."""
    _SETTINGS["max_steps_per_epoch"] = _positive_or_none(max_steps_per_epoch, "set_max_steps_per_epoch")


def max_steps_per_epoch():
    """The cap on the steps per epoch (``set_max_steps_per_epoch``), or None."""
    return _SETTINGS["max_steps_per_epoch"]


_SETTINGS["max_epochs"] = _env_limit("MAX_EPOCHS")
_SETTINGS["max_steps_per_epoch"] = _env_limit("MAX_STEPS_PER_EPOCH")


def set_backend(backend):
    """Switch lamina to another engine (``"torch"`` or ``"jax"``) in a running program.

    lamina's modules are imported afresh on the new engine, and the ``lamina`` module object the program
    already holds is refreshed, so ``lamina.layers.Dense`` (or ``keras.layers.Dense`` after
    ``import lamina as keras``) is the new engine's. Objects made before the switch (models, layers,
    tensors) and names imported with ``from lamina... import ...`` stay on the old engine: make them again.
    Setting ``LAMINA_BACKEND`` before the program starts is the usual way.
    """
    import importlib
    import sys

    name = str(backend).lower()
    if name not in _BACKENDS:
        raise ValueError(f"set_backend expected one of {list(_BACKENDS)}, but received {backend!r}.")
    old_root = sys.modules.get("lamina")
    os.environ["LAMINA_BACKEND"] = name
    for key in [k for k in sys.modules if k == "lamina" or k.startswith("lamina.")]:
        del sys.modules[key]
    new_root = importlib.import_module("lamina")
    if old_root is not None and old_root is not new_root:
        old_root.__dict__.update({k: v for k, v in new_root.__dict__.items() if k not in ("__spec__", "__loader__")})


def enable_interactive_logging():
    """Progress bars and callback messages print to standard output (the default)."""
    from lamina.utils import io_utils

    io_utils.enable_interactive_logging()


def disable_interactive_logging():
    """Progress bars and callback messages go to the ``"lamina"`` logger of Python's ``logging`` (INFO)."""
    from lamina.utils import io_utils

    io_utils.disable_interactive_logging()


def is_interactive_logging_enabled():
    """True when training messages print to standard output."""
    from lamina.utils import io_utils

    return io_utils.is_interactive_logging_enabled()


def enable_traceback_filtering():
    """Leave lamina's internal frames out of error tracebacks (the default)."""
    from lamina.utils import traceback_utils

    traceback_utils.enable_traceback_filtering()


def disable_traceback_filtering():
    """Show every frame of an error's traceback, lamina's own included (``LAMINA_TRACEBACK_FILTERING=0``)."""
    from lamina.utils import traceback_utils

    traceback_utils.disable_traceback_filtering()


def is_traceback_filtering_enabled():
    """True when error tracebacks leave lamina's internal frames out."""
    from lamina.utils import traceback_utils

    return traceback_utils.is_traceback_filtering_enabled()
