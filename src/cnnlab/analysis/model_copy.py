"""A private copy of a model for tracing, so that the user's model is never changed.

Tracing runs the model's own ``forward``, and a forward may change the module it runs on:
torchvision's anchor generator caches its anchors on the device of the input, pruning's
pre-hook recomputes ``module.weight``, lazy modules materialise their parameters and change
class, BatchNorm counts batches, and swapping parameters in and out by name
(``torch.func.functional_call``) loses modules registered under two names. Running on a copy
avoids all of it: :func:`tracing_copy` rebuilds the module tree with new module objects whose
parameters, buffers and tensor attributes are copies made by ``convert`` (empty meta tensors
for a shape-only trace, real copies for a forward on a device), while everything else is copied
as :func:`copy.deepcopy` would, sharing one memo so that a module or tensor reachable twice is
copied once (tied weights stay tied, hook handles point at the copy's hooks).

It is :func:`copy.deepcopy` with tensors converted instead of cloned, and fast paths for what
modules hold most (dicts of hooks, numbers, strings, other modules): a plain ``deepcopy``
would copy every weight first.
"""

from __future__ import annotations

import copy
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

Convert = Callable[[torch.Tensor], torch.Tensor]

# Values copied by reference: immutable, or code (exact types first, then subclasses).
_SHARED = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    range,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.ModuleType,
    torch.dtype,
    torch.device,
    torch.Size,
    torch.memory_format,
    torch.layout,
)
_SHARED_TYPES = frozenset(_SHARED)


class _Copier:
    def __init__(self, convert: Convert) -> None:
        self.convert = convert
        self.memo: dict[int, Any] = {}
        self.params: dict[int, nn.Parameter] = {}  # id(original) -> copy

    # -- tensors -------------------------------------------------------------------------
    def tensor(self, t: torch.Tensor) -> torch.Tensor:
        key = id(t)
        if key in self.memo:
            return self.memo[key]
        if isinstance(t, UninitializedParameter):
            new: torch.Tensor = UninitializedParameter(t.requires_grad, self._device(), t.dtype)
        elif isinstance(t, UninitializedBuffer):
            new = UninitializedBuffer(t.requires_grad, self._device(), t.dtype)
        elif isinstance(t, nn.Parameter):
            new = nn.Parameter(self.convert(t.detach()), requires_grad=t.requires_grad)
            self.params[key] = new  # type: ignore[assignment]
        else:
            new = self.convert(t.detach())
            if t.requires_grad and new.is_floating_point():
                new.requires_grad_(True)
        self.memo[key] = new
        return new

    def _device(self) -> torch.device:
        return self.convert(torch.empty(0)).device

    # -- modules -------------------------------------------------------------------------
    def module(self, m: nn.Module) -> nn.Module:
        key = id(m)
        if key in self.memo:
            return self.memo[key]
        if isinstance(m, torch.jit.ScriptModule):
            return self._script_module(m)
        new = object.__new__(type(m))
        memo = self.memo
        memo[key] = new
        state = {}
        for name, value in m.__dict__.items():
            kind = type(value)
            if kind in _SHARED_TYPES:
                state[name] = value
            elif (kind is dict or kind is OrderedDict) and not value:  # most hook dicts
                state[name] = memo[id(value)] = kind()
            elif name == "_modules":
                state[name] = self._dict(value, self.module)
            elif name in ("_parameters", "_buffers"):
                state[name] = self._dict(value, self.tensor)
            else:
                state[name] = self.value(value)
        new.__dict__.update(state)
        return new

    def _dict(self, d: dict, copy_item: Callable[[Any], Any]) -> dict:
        new = type(d)()
        self.memo[id(d)] = new
        if d:
            for k, v in d.items():
                new[k] = None if v is None else copy_item(v)
        return new

    def _script_module(self, m: torch.jit.ScriptModule) -> nn.Module:
        """TorchScript submodules: a deep copy of the compiled module, parameters swapped."""
        new = copy.deepcopy(m)
        self.memo[id(m)] = new
        for name, p in m.named_parameters():
            owner, attr = _owner(new, name)
            setattr(owner, attr, self.tensor(p))
        for name, b in m.named_buffers():
            owner, attr = _owner(new, name)
            setattr(owner, attr, self.tensor(b))
        return new

    # -- everything else -------------------------------------------------------------------
    def value(self, v: Any) -> Any:
        if type(v) in _SHARED_TYPES or isinstance(v, _SHARED):
            return v
        key = id(v)
        if key in self.memo:
            return self.memo[key]
        if isinstance(v, torch.Tensor):
            return self.tensor(v)
        if isinstance(v, nn.Module):
            return self.module(v)
        kind = type(v)
        if kind in (dict, OrderedDict):
            return self._dict(v, self.value)
        if kind is list:
            new_list: list = []
            self.memo[key] = new_list
            new_list.extend(self.value(x) for x in v)
            return new_list
        if kind is tuple:
            items = tuple(self.value(x) for x in v)
            return v if all(a is b for a, b in zip(items, v, strict=True)) else items
        if kind in (set, frozenset):
            return kind(self.value(x) for x in v)
        if isinstance(v, types.MethodType) and isinstance(v.__self__, nn.Module):
            return types.MethodType(v.__func__, self.module(v.__self__))
        try:
            return copy.deepcopy(v, self.memo)
        except Exception:  # an object that cannot be copied (a lock, a file): shared
            return v


def _owner(module: nn.Module, name: str) -> tuple[nn.Module, str]:
    *path, attr = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, attr


def tracing_copy(model: nn.Module, convert: Convert) -> tuple[nn.Module, dict[int, nn.Parameter]]:
    """A copy of ``model`` whose tensors are ``convert``\\ ed, and its parameter map.

    Args:
        model: the module to copy; it is not modified.
        convert: makes the copy of a tensor (``detach()``-ed original in, new tensor out).

    Returns:
        The copy, and ``id(original parameter) -> copied parameter``.
    """
    copier = _Copier(convert)
    return copier.module(model), copier.params
