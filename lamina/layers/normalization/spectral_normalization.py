"""``SpectralNormalization``: divide a layer's kernel by an estimate of its largest singular value."""

import numbers

from lamina import backend, initializers, ops
from lamina.layers.core.wrapper import Wrapper
from lamina.layers.input_spec import InputSpec


def _l2_normalize(x):
    # x / ||x|| over every element, with the norm floored at epsilon (as Keras's ``normalize(x, axis=None)``).
    inv = ops.minimum(ops.rsqrt(ops.sum(ops.square(x))), 1.0 / backend.epsilon())
    return x * inv


class SpectralNormalization(Wrapper):
    """Spectral normalization of the weights of a wrapped layer (Miyato et al., 2018).

    It bounds the Lipschitz constant of the wrapped layer, which stabilizes GAN training. The kernel
    (or, for ``Embedding``, the embeddings), seen as a matrix ``W`` of shape ``(-1, kernel.shape[-1])``,
    is divided by ``sigma``, an estimate of its largest singular value found by ``power_iterations``
    steps of power iteration from the non-trainable vector ``vector_u`` of shape
    ``(1, kernel.shape[-1])``. In training (``training=True``) each call refines ``vector_u``, writes the
    normalized kernel into the wrapped layer's kernel variable (an all-zero kernel is left as it is) and
    then runs the wrapped layer; in inference the wrapped layer runs with its kernel as it is.

    Args:
        layer: a layer with a ``kernel`` (``Dense``, ``Conv2D``...) or an ``embeddings`` weight.
        power_iterations: positive int, the number of power iterations per training call.
        **kwargs: the base ``Layer`` arguments.

    Call arguments:
        inputs: the wrapped layer's input.
        training: whether to normalize the kernel (default False).

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.SpectralNormalization(lamina.layers.Dense(4), power_iterations=30)
    >>> y = layer(np.ones((2, 3), "float32"), training=True)
    >>> kernel = lamina.ops.convert_to_numpy(layer.layer.kernel)
    >>> round(float(np.linalg.svd(kernel, compute_uv=False)[0]), 3)
    1.0
    >>> [w.shape for w in layer.weights]
    [(3, 4), (1, 4), (4,)]
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, numbers.Integral) or \
                power_iterations <= 0:
            raise ValueError(f"Layer '{self.name}' (SpectralNormalization) expected a positive integer for "
                             f"`power_iterations`, but received power_iterations={power_iterations!r}.")
        self.power_iterations = int(power_iterations)

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if not isinstance(kernel, backend.VariableBase):
            raise ValueError(f"Layer '{self.name}' (SpectralNormalization) needs a wrapped layer with a `kernel` "
                             f"or `embeddings` weight, but {type(self.layer).__name__} '{self.layer.name}' has "
                             "neither.")
        # The kernel is also this layer's own weight (first), then vector_u: Keras's order and file layout.
        self.kernel = kernel
        if kernel not in self._own_variables:
            self._own_variables.insert(0, kernel)
        self.kernel_shape = tuple(kernel.shape)
        self.vector_u = self.add_weight(shape=(1, self.kernel_shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u", dtype=kernel.dtype)
        self.built = True

    def call(self, inputs, training=False):
        if training:
            new_u, new_kernel = self.normalized_weights()
            keep = ops.all(ops.equal(self.kernel.value, 0))
            self.vector_u.assign(ops.where(keep, self.vector_u.value, new_u))
            self.kernel.assign(ops.where(keep, self.kernel.value, new_kernel))
        outputs = self.layer(inputs)
        return ops.cast(outputs, ops.dtype(inputs))

    def normalized_weights(self):
        """Return ``(new_vector_u, kernel / sigma)`` after ``power_iterations`` steps of power iteration."""
        w = ops.reshape(self.kernel.value, (-1, self.kernel_shape[-1]))
        u = self.vector_u.value
        v = None
        for _ in range(self.power_iterations):
            v = _l2_normalize(ops.matmul(u, ops.transpose(w)))
            u = _l2_normalize(ops.matmul(v, w))
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.matmul(ops.matmul(v, w), ops.transpose(u))
        kernel = ops.reshape(ops.divide(self.kernel.value, sigma), self.kernel_shape)
        return ops.cast(u, self.vector_u.dtype), ops.cast(kernel, self.kernel.dtype)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
