"""``lamina.layers``: the building blocks of models (Keras's ``keras.layers``)."""

from lamina.layers.core.dense import Dense  # noqa: F401
from lamina.layers.core.embedding import Embedding  # noqa: F401
from lamina.layers.core.input_layer import Input, InputLayer  # noqa: F401
from lamina.layers.core.simple import (  # noqa: F401
    Activation,
    Dropout,
    Flatten,
    Identity,
    Lambda,
    Masking,
    Reshape,
)
from lamina.layers.input_spec import InputSpec  # noqa: F401
from lamina.layers.layer import Layer  # noqa: F401
from lamina.layers.convolutional import (  # noqa: F401
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    Deconvolution2D,
    Deconvolution3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from lamina.layers.pooling import (  # noqa: F401
    AdaptiveAveragePooling1D,
    AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D,
    AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from lamina.layers.normalization import (  # noqa: F401
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from lamina.layers.regularization import (  # noqa: F401
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from lamina.layers.reshaping import (  # noqa: F401
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from lamina.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax  # noqa: F401
from lamina.layers.merging import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from lamina.layers.rnn import (  # noqa: F401
    Bidirectional,
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from lamina.layers.preprocessing import (  # noqa: F401
    CategoryEncoding,
    CenterCrop,
    Discretization,
    Hashing,
    IntegerLookup,
    Normalization,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescaling,
    Resizing,
    StringLookup,
    TextVectorization,
)
from lamina.layers.core.einsum_dense import EinsumDense  # noqa: F401
from lamina.layers.rnn.time_distributed import TimeDistributed  # noqa: F401
from lamina.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: F401
from lamina.layers.attention import (  # noqa: F401
    AdditiveAttention,
    Attention,
    GroupedQueryAttention,
    GroupQueryAttention,
    MultiHeadAttention,
)
from lamina.layers.core.wrapper import Wrapper  # noqa: F401
from lamina.layers.normalization.spectral_normalization import SpectralNormalization  # noqa: F401
from lamina.layers.core.reversible_embedding import ReversibleEmbedding  # noqa: F401
from lamina.layers.preprocessing import (  # noqa: F401,E402
    AutoContrast,
    Equalization,
    RandomGrayscale,
    RandomInvert,
    RandomPosterization,
    Solarization,
)
from lamina.layers.core.pipeline import Pipeline  # noqa: F401
from lamina.layers.preprocessing import (  # noqa: F401,E402
    RandomColorDegeneration,
    RandomColorJitter,
    RandomHue,
    RandomSaturation,
    RandomSharpness,
)
from lamina.layers.preprocessing.hashed_crossing import HashedCrossing  # noqa: F401
from lamina.layers.preprocessing import (  # noqa: F401,E402
    CutMix,
    MixUp,
    RandomErasing,
    RandomGaussianBlur,
    RandomShear,
)
from lamina.layers.preprocessing import (  # noqa: F401,E402
    AugMix,
    ContrastLimitedAdaptiveHistogramEqualization,
    MaxNumBoundingBoxes,
    RandAugment,
    RandomElasticTransform,
    RandomPerspective,
)
from lamina.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram  # noqa: F401,E402

from lamina.layers.core.torch_module_wrapper import TorchModuleWrapper  # noqa: E402,F401
from lamina.layers.core.jax_layer import JaxLayer  # noqa: E402,F401

def serialize(layer):
    """The config dict of ``layer`` (``{"module", "class_name", "config", ...}``), as ``keras.layers.serialize``.

    Example:
    >>> import lamina
    >>> config = lamina.layers.serialize(lamina.layers.Dense(4, name="d"))
    >>> lamina.layers.deserialize(config).units
    4
    """
    from lamina.saving import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer (with new weights) described by ``config`` (from ``serialize``)."""
    from lamina.saving import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects)
