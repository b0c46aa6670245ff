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
