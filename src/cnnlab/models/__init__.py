"""The model zoo: one file per architecture family, all in one registry.

Use :func:`create_model` and :func:`list_models`; each family module registers its models when
imported, and importing this package imports them all.
"""

from cnnlab.models import (  # noqa: F401  (each module registers its models)
    alexnet,
    digits_cnn,
    fcn,
    lenet,
    mobilenet,
    resnet,
    resnetv2,
    senet,
    shufflenet_v1,
    shufflenet_v2,
    unet,
    vgg,
)
from cnnlab.models._registry import (
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "create_model", "list_models", "model_info", "register_model"]
