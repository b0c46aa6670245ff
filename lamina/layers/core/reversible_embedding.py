"""``ReversibleEmbedding``: an ``Embedding`` that can also project vectors back onto the vocabulary."""

from lamina import backend, ops
from lamina.layers.core.dense import check_positive_int
from lamina.layers.core.embedding import Embedding
from lamina.quantizers import layer_support as quant
from lamina.quantizers import reversible


class ReversibleEmbedding(Embedding):
    """An embedding layer that can also project from ``output_dim`` back to ``input_dim`` (language models).

    ``layer(ids)`` looks up embeddings as ``Embedding`` does; ``layer(hidden, reverse=True)`` returns
    logits ``hidden @ embeddings.T`` (weights tied, the default) or ``hidden @ reverse_embeddings`` with a
    separate trainable ``reverse_embeddings`` matrix of shape ``(output_dim, input_dim)`` when
    ``tie_weights=False``. There is no bias.

    Args:
        input_dim: positive int, the size of the vocabulary (maximum index + 1).
        output_dim: positive int, the size of each embedding vector.
        tie_weights: whether the reverse projection uses the transposed ``embeddings`` (True) or its own
            ``reverse_embeddings`` weight (False).
        embeddings_initializer: initializer of ``embeddings`` (and ``reverse_embeddings``), default
            ``"uniform"``.
        embeddings_regularizer, embeddings_constraint: for ``embeddings``.
        mask_zero: whether index 0 is padding; the forward call's output then carries the mask
            ``inputs != 0``. A reverse call makes no mask.
        reverse_dtype: the dtype the reverse projection computes in (default: the layer's compute dtype).
        logit_soft_cap: if set, reverse logits become ``tanh(logits / logit_soft_cap) * logit_soft_cap``.
        **kwargs: the other ``Embedding`` / ``Layer`` arguments (``name``, ``dtype``...).

    Call arguments:
        inputs: integer ids ``(batch, ...)``, or with ``reverse=True`` vectors ``(batch, ..., output_dim)``.
        reverse: whether to project back to the vocabulary (default False).

    Output shape:
        ``(batch, ..., output_dim)``, or with ``reverse=True`` ``(batch, ..., input_dim)``.

    Example:
    >>> import numpy as np, lamina
    >>> layer = lamina.layers.ReversibleEmbedding(10, 4)
    >>> hidden = layer(np.array([[1, 2, 3]]))
    >>> lamina.ops.shape(hidden), lamina.ops.shape(layer(hidden, reverse=True))
    ((1, 3, 4), (1, 3, 10))
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        early = f"Layer '{kwargs.get('name') or 'reversible_embedding'}' (ReversibleEmbedding)"
        check_positive_int(early, "input_dim", input_dim)
        check_positive_int(early, "output_dim", output_dim)
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero, **kwargs)
        who = f"Layer '{self.name}' (ReversibleEmbedding)"
        if not isinstance(tie_weights, bool):
            raise ValueError(f"{who} expected a bool for `tie_weights`, but received tie_weights={tie_weights!r}.")
        if reverse_dtype is not None:
            try:
                reverse_dtype = backend.standardize_dtype(reverse_dtype)
            except (ValueError, TypeError):
                raise ValueError(f"{who} expected a dtype name (e.g. 'float32') or None for `reverse_dtype`, "
                                 f"but received reverse_dtype={reverse_dtype!r}.") from None
        if logit_soft_cap is not None and (isinstance(logit_soft_cap, bool) or
                                           not isinstance(logit_soft_cap, (int, float)) or logit_soft_cap <= 0):
            raise ValueError(f"{who} expected a positive number or None for `logit_soft_cap`, but received "
                             f"logit_soft_cap={logit_soft_cap!r}.")
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights and self.quantization_mode:
            reversible.build_reverse(self)
        elif not self.tie_weights:
            self.reverse_embeddings = self.add_weight(name="reverse_embeddings",
                                                      shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer, trainable=True)
        self.inputs_quantizer = reversible.inputs_quantizer(self)
        self.built = True

    def _check_reverse_input(self, shape):
        if len(shape) < 1 or (shape[-1] is not None and shape[-1] != self.output_dim):
            raise ValueError(f"Layer '{self.name}' (ReversibleEmbedding) called with reverse=True expected "
                             f"inputs whose last dimension is output_dim={self.output_dim}, but received "
                             f"shape {tuple(shape)}.")

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        self._check_reverse_input(tuple(ops.shape(inputs)))
        if self.quantization_mode:
            quant.check_not_training(self)
            return self._soft_cap(reversible.reverse_logits(self, inputs))
        kernel = ops.transpose(self.embeddings.value) if self.tie_weights else self.reverse_embeddings.value
        if self.reverse_dtype is not None:
            inputs = ops.cast(inputs, self.reverse_dtype)
            kernel = ops.cast(kernel, self.reverse_dtype)
        return self._soft_cap(ops.matmul(inputs, kernel))

    def _soft_cap(self, logits):
        if self.logit_soft_cap is not None:
            logits = ops.multiply(ops.tanh(ops.divide(logits, self.logit_soft_cap)), self.logit_soft_cap)
        return logits

    def compute_mask(self, inputs, previous_mask=None):
        # Only a forward lookup (integer ids) makes a mask; a reverse projection (float vectors) makes none.
        if not self.mask_zero or backend.is_float_dtype(backend.standardize_dtype(inputs.dtype)):
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            self._check_reverse_input(tuple(input_shape))
            return tuple(input_shape)[:-1] + (self.input_dim,)
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_spec(self, inputs, reverse=False):
        dtype = (self.reverse_dtype or self.compute_dtype) if reverse else self.compute_dtype
        return backend.KerasTensor(self.compute_output_shape(tuple(inputs.shape), reverse=reverse), dtype)

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantize the embeddings as ``Embedding.quantize`` does, and the reverse projection with them.

        Tied weights reuse the quantized table; untied ``reverse_embeddings`` get one scale per
        vocabulary entry (int8, or int4 packed along ``output_dim``, per entry or in groups of
        ``block_size``). The reverse call then quantizes its inputs per row unless the config's
        ``activation_quantizer`` is None (see ``lamina.quantizers.reversible``). Inference only.
        """
        super().quantize(mode, type_check=type_check, config=config)
        self.inputs_quantizer = reversible.inputs_quantizer(self)

    def _quantize_weights(self, config):
        super()._quantize_weights(config)
        if not self.tie_weights:
            reversible.quantize_reverse(self, config, self._int4_block_size)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}
