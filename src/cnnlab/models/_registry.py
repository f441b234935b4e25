"""The model registry: models register themselves with :func:`register_model`.

Mirrors timm: ``create_model(name, num_classes=..., in_chans=..., **kwargs)`` and
``list_models(pattern)``. Every classifier factory accepts ``num_classes`` and ``in_chans``.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from torch import nn

from cnnlab.core.names import unknown_name_message

F = TypeVar("F", bound=Callable[..., nn.Module])

TASKS = ("classification", "segmentation", "detection")
# Packages whose modules register models when imported: the zoo, and the detectors built on its
# backbones (cnnlab.detection imports the zoo, so it is imported by name when the registry is
# read).
_PACKAGES = ("cnnlab.models", "cnnlab.detection")


@dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model.

    Attributes:
        name: registry name, e.g. ``"resnet50"``.
        factory: callable returning the ``nn.Module``.
        family: architecture family, e.g. ``"resnet"`` (the module the factory lives in).
        task: ``"classification"``, ``"segmentation"`` or ``"detection"``.
        default_input_size: (C, H, W) the model is usually run at.
        paper: citation of the paper the architecture comes from.
    """

    name: str
    factory: Callable[..., nn.Module]
    family: str
    task: str
    default_input_size: tuple[int, int, int]
    paper: str


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    fn: F | None = None,
    *,
    name: str | None = None,
    family: str | None = None,
    task: str = "classification",
    default_input_size: tuple[int, int, int] = (3, 224, 224),
    paper: str = "",
) -> F | Callable[[F], F]:
    """Decorator adding a model factory to the registry; duplicate names raise ``ValueError``.

    Usable bare (``@register_model``) or with options (``@register_model(task="segmentation")``).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")

    def decorate(factory: F) -> F:
        key = name or factory.__name__
        if key in _REGISTRY:
            raise ValueError(
                f"model name {key!r} is already registered (by {_REGISTRY[key].factory.__module__})"
            )
        fam = family or factory.__module__.rsplit(".", 1)[-1]
        _REGISTRY[key] = ModelInfo(key, factory, fam, task, tuple(default_input_size), paper)
        return factory

    return decorate(fn) if fn is not None else decorate


def _ensure_loaded() -> None:
    # Importing a package imports every family module, which registers its models.
    for package in _PACKAGES:
        importlib.import_module(package)


def list_models(pattern: str | None = None, *, task: str | None = None) -> list[str]:
    """Sorted registry names, optionally filtered by a shell-style ``pattern`` and ``task``.

    Example:
        >>> "digits_cnn" in list_models("digits*")
        True
    """
    _ensure_loaded()
    names = sorted(_REGISTRY)
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    if task is not None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        names = [n for n in names if _REGISTRY[n].task == task]
    return names


def model_info(name: str) -> ModelInfo:
    """The :class:`ModelInfo` of ``name``; unknown names raise ``ValueError`` with close matches."""
    _ensure_loaded()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(unknown_name_message("model", str(name), _REGISTRY))
    return _REGISTRY[name]


def create_model(
    name: str,
    num_classes: int | None = None,
    in_chans: int | None = None,
    **kwargs: object,
) -> nn.Module:
    """Build a registered model.

    Args:
        name: registry name (see :func:`list_models`).
        num_classes: output classes; ``None`` keeps the model's default (1000 for ImageNet
            classifiers, 21 for FCN, 2 for U-Net).
        in_chans: input channels; ``None`` keeps the model's default.
        **kwargs: passed to the factory (e.g. ``width_mult=0.5``).

    Raises:
        ValueError: unknown name (with the closest names), or an option the factory rejects.
    """
    info = model_info(name)
    for arg, value in (("num_classes", num_classes), ("in_chans", in_chans)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{arg} must be a positive integer, got {value!r}")
        kwargs[arg] = value
    params = inspect.signature(info.factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    unknown = [k for k in kwargs if k not in params and not takes_any]
    if unknown:
        allowed = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        raise ValueError(f"model {name!r} got unexpected option(s) {unknown}; it accepts {allowed}")
    try:
        return info.factory(**kwargs)
    except TypeError as err:  # e.g. an option a **kwargs factory passes on and a class rejects
        raise ValueError(f"model {name!r} rejected its options {sorted(kwargs)}: {err}") from None
