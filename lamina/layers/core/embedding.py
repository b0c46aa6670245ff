"""``Embedding``: turn positive integer indices into dense vectors of a fixed size."""

from lamina import constraints, initializers, ops, quantizers, regularizers
from lamina.layers.core.dense import check_positive_int
from lamina.layers.layer import Layer
from lamina.quantizers import int4_layers
from lamina.quantizers import layer_support as quant


class Embedding(Layer):
    """Turn positive integers (indices) into dense vectors: ``output = embeddings[inputs]``.

    Args:
        input_dim: positive int, the size of the vocabulary (maximum index + 1).
        output_dim: positive int, the size of each embedding vector.
        embeddings_initializer: initializer of the ``embeddings`` matrix (default ``"uniform"``).
        embeddings_regularizer: regularizer of the ``embeddings`` matrix.
        embeddings_constraint: constraint of the ``embeddings`` matrix.
        mask_zero: whether index 0 is a padding value to mask out; downstream
            layers that support masks (e.g. ``LSTM``) then skip those timesteps.
            Index 0 then cannot be used in the vocabulary.
        input_length: accepted for Keras 2 code and ignored (the sequence length
            follows the inputs).
        quantization_config: the ``lamina.quantizers.QuantizationConfig`` of a quantized layer
            (set by ``quantize``; read back from a saved config).

    Input shape:
        integer tensor ``(batch_size, ...)``.

    Output shape:
        ``(batch_size, ..., output_dim)``.

    Example:
    >>> import lamina
    >>> layer = lamina.layers.Embedding(10, 3, mask_zero=True)
    >>> x = lamina.ops.convert_to_tensor([[1, 2, 0]])
    >>> lamina.ops.shape(layer(x))
    (1, 3, 3)
    >>> lamina.ops.convert_to_numpy(layer.compute_mask(x)).tolist()
    [[True, True, False]]
    >>> [w.shape for w in layer.weights]
    [(10, 3)]
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, activity_regularizer=None,
                 dtype=None, quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, dtype=dtype, **kwargs)
        quant.init_quantization(self, quantization_config, ("int8", "int4"))
        who = f"Layer '{self.name}' (Embedding)"
        self.input_dim = check_positive_int(who, "input_dim", input_dim)
        self.output_dim = check_positive_int(who, "output_dim", output_dim)
        if input_length is not None:
            check_positive_int(who, "input_length", input_length)
        self.input_length = input_length
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero

    def build(self, input_shape=None):
        quant.resolve_build_policy(self)
        if self.quantization_mode == "int8":
            self.embeddings = quant.add_int8_weight(self, "embeddings", (self.input_dim, self.output_dim))
            self.embeddings_scale = quant.add_scale_weight(self, "embeddings_scale", (self.input_dim,))
        elif self.quantization_mode == "int4":  # packed along the output dimension
            self.embeddings = quant.add_int8_weight(self, "embeddings", (self.input_dim, (self.output_dim + 1) // 2))
            int4_layers.add_int4_extras(self, "embeddings", self.input_dim, self.output_dim, grouped_along_rows=False)
        else:
            self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                              initializer=self.embeddings_initializer,
                                              regularizer=self.embeddings_regularizer,
                                              constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        dtype = ops.dtype(inputs)
        if dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        if self.quantization_mode:  # weight-only: dequantize the rows looked up
            quant.check_not_training(self)
            if self.quantization_mode == "int4":
                return int4_layers.int4_embedding_lookup(self, inputs)
            rows = ops.cast(ops.take(self.embeddings.value, inputs, axis=0), self.compute_dtype)
            scale = ops.expand_dims(ops.take(self.embeddings_scale.value, inputs, axis=0), -1)
            return ops.divide(rows, scale)
        return ops.take(self.embeddings.value, inputs, axis=0)

    def compute_mask(self, inputs, previous_mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def quantize(self, mode=None, type_check=True, config=None):
        """Replace the float embeddings by quantized ones (weight-only: looked-up rows are dequantized).

        ``mode="int8"``: int8 ``embeddings`` and one float ``embeddings_scale`` per row. ``mode="int4"``:
        the table packed two values per byte along the output dimension, ``(input_dim,
        ceil(output_dim / 2))``, with one scale per row or, in groups of ``block_size`` output
        entries (default 128), scales and zero points ``(input_dim, groups)``. ``config``: a
        ``lamina.quantizers.QuantizationConfig``. Inference only.
        """
        config = quant.begin_quantize(self, mode, config)
        self._quantize_weights(config)
        quant.finish_quantize(self, config)

    def _quantize_weights(self, config):
        if config.mode == "int8":
            quant.quantize_int8_weight(self, "embeddings", axis=-1, scale_name="embeddings_scale",
                                       scale_shape=(self.input_dim,), quantizer=config.weight_quantizer)
        else:
            block = quantizers.block_size_of(config)
            packed, scale, zero = int4_layers.quantize_int4(self.embeddings.value, block, config.weight_quantizer,
                                                            rows_axis=False)
            quant.replace_weight(self, "embeddings", packed, "int8")
            self._int4_block_size = block
            int4_layers.set_int4_extras(self, "embeddings", scale, zero, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dtype": quant.policy_name(self, self.dtype),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
            **quant.config_entries(self),
        }
