"""``lamina.applications``: Keras's pretrained ImageNet architectures, with Keras's layer names and weight layouts.

``weights="imagenet"`` downloads Keras's published weight file through ``lamina.utils.get_file`` (into the
``models`` cache folder, checked against its published hash where Keras publishes one); ``weights=path`` loads a
local Keras ``.h5``/``.weights.h5`` file. Each family module (``vgg16``, ``resnet50``, ``mobilenet_v2``, ...)
also exports ``preprocess_input`` and ``decode_predictions``.

Example:
>>> from lamina.applications import VGG16
>>> VGG16(weights=None).count_params()
138357544
"""

from lamina.applications import imagenet_utils  # noqa: F401
from lamina.applications import densenet, efficientnet, inception_v3, mobilenet_v3, xception  # noqa: F401
from lamina.applications import convnext, efficientnet_v2, inception_resnet_v2, nasnet  # noqa: F401
from lamina.applications.convnext import (ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny,  # noqa: F401
                                          ConvNeXtXLarge)
from lamina.applications import mobilenet, mobilenet_v2, resnet, resnet50, resnet_v2, vgg16, vgg19  # noqa: F401
from lamina.applications.densenet import DenseNet121, DenseNet169, DenseNet201  # noqa: F401
from lamina.applications.efficientnet import (EfficientNetB0, EfficientNetB1, EfficientNetB2,  # noqa: F401
                                              EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6,
                                              EfficientNetB7)
from lamina.applications.efficientnet_v2 import (EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2,  # noqa: F401
                                                 EfficientNetV2B3, EfficientNetV2L, EfficientNetV2M,
                                                 EfficientNetV2S)
from lamina.applications.inception_resnet_v2 import InceptionResNetV2  # noqa: F401
from lamina.applications.inception_v3 import InceptionV3  # noqa: F401
from lamina.applications.mobilenet import MobileNet  # noqa: F401
from lamina.applications.mobilenet_v2 import MobileNetV2  # noqa: F401
from lamina.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small  # noqa: F401
from lamina.applications.nasnet import NASNetLarge, NASNetMobile  # noqa: F401
from lamina.applications.resnet import ResNet50, ResNet101, ResNet152  # noqa: F401
from lamina.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2  # noqa: F401
from lamina.applications.vgg16 import VGG16  # noqa: F401
from lamina.applications.vgg19 import VGG19  # noqa: F401
from lamina.applications.xception import Xception  # noqa: F401
