"""The model zoo: one file per architecture family, all in one registry.

Use :func:`create_model` and :func:`list_models`; each family module registers its models when
imported, and importing this package imports them all.
"""

from cnnlab.models import digits_cnn  # noqa: F401  (registers its models)
from cnnlab.models._registry import (
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "create_model", "list_models", "model_info", "register_model"]
