"""Preprocessing layers (Keras's ``keras.layers`` preprocessing family), with no TensorFlow.

Numeric and image layers compute with ``lamina.ops`` and work inside models on every backend;
``StringLookup`` (and string inputs of ``Hashing``) run on the host with NumPy.
"""

from lamina.layers.preprocessing.categorical import CategoryEncoding, Hashing  # noqa: F401
from lamina.layers.preprocessing.image_augmentation import (  # noqa: F401
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from lamina.layers.preprocessing.image_preprocessing import CenterCrop, Rescaling, Resizing  # noqa: F401
from lamina.layers.preprocessing.index_lookup import IndexLookup  # noqa: F401
from lamina.layers.preprocessing.lookups import IntegerLookup, StringLookup  # noqa: F401
from lamina.layers.preprocessing.numerical import Discretization, Normalization  # noqa: F401
from lamina.layers.preprocessing.text_vectorization import TextVectorization  # noqa: F401,E402
from lamina.layers.preprocessing.color_augmentation import (  # noqa: F401,E402
    AutoContrast,
    Equalization,
    RandomGrayscale,
    RandomInvert,
    RandomPosterization,
    Solarization,
)
from lamina.layers.preprocessing.color_jitter import (  # noqa: F401,E402
    RandomColorDegeneration,
    RandomColorJitter,
    RandomHue,
    RandomSaturation,
    RandomSharpness,
)
from lamina.layers.preprocessing.mixing_augmentation import (  # noqa: F401,E402
    CutMix,
    MixUp,
    RandomErasing,
    RandomGaussianBlur,
    RandomShear,
)
from lamina.layers.preprocessing.policy_augmentation import (  # noqa: F401,E402
    AugMix,
    ContrastLimitedAdaptiveHistogramEqualization,
    MaxNumBoundingBoxes,
    RandAugment,
    RandomElasticTransform,
    RandomPerspective,
)
from lamina.layers.preprocessing.audio import MelSpectrogram, STFTSpectrogram  # noqa: F401,E402
