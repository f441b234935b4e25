"""The model zoo: one file per architecture family, all in one registry.

Use :func:`create_model` and :func:`list_models`; each family module registers its models when
imported, and importing this package imports them all.
"""

from cnnlab.models import (  # noqa: F401  (each module registers its models)
    alexnet,
    deeplab,
    deeplabv3plus,
    densenet,
    digits_cnn,
    efficientnet,
    fcn,
    gcnet,
    googlenet,
    igcv3,
    inception_resnet_v2,
    inception_v3,
    inception_v4,
    lenet,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    octresnet,
    resnet,
    resnetv2,
    resnext,
    senet,
    shufflenet_v1,
    shufflenet_v2,
    sknet,
    unet,
    vgg,
    wide_resnet,
    xception,
)
from cnnlab.models._registry import (
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "create_model", "list_models", "model_info", "register_model"]
