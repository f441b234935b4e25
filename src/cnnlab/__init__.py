"""cnnlab: a deep-learning syllabus on CNNs for computer vision, made executable.

Two tiers:

* :mod:`cnnlab.scratch` -- NumPy only, every layer's forward and backward written out.
* the PyTorch tier -- :mod:`cnnlab.models`, :mod:`cnnlab.optim`, :mod:`cnnlab.analysis`,
  :mod:`cnnlab.detection`, :mod:`cnnlab.train` and the ``cnnlab`` command.

The short public API is re-exported here and imported lazily, so ``import cnnlab`` stays cheap
and ``import cnnlab.scratch`` never pulls in torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute"
_LAZY = {
    "create_model": "cnnlab.models:create_model",
    "list_models": "cnnlab.models:list_models",
    "summary": "cnnlab.analysis:summary",
    "create_optimizer": "cnnlab.optim:create_optimizer",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'cnnlab' has no attribute {name!r}")
    module_name, attr = target.split(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
