"""Names and arguments of the calls the trace sees: torch functions and ATen ops."""

from __future__ import annotations

from typing import Any

_DUNDER = {
    "iadd": "add_",
    "isub": "sub_",
    "imul": "mul_",
    "itruediv": "div_",
    "radd": "add",
    "rsub": "sub",
    "rmul": "mul",
    "truediv": "div",
    "rtruediv": "div",
    "floordiv": "floor_divide",
    "rmatmul": "matmul",
}


def function_name(func: Any) -> str:
    """``add`` for ``Tensor.__add__``, ``add_`` for ``+=``, ``relu`` for ``F.relu``."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name.startswith("__") and name.endswith("__"):
        name = name.strip("_")
        name = _DUNDER.get(name, name)
    return name


def op_name(func: Any) -> str:
    """ATen op name without overload or in-place underscore: ``aten.relu_.default`` -> ``relu``."""
    name = func.overloadpacket.__name__
    return name[:-1] if name.endswith("_") and not name.endswith("__") else name


_SCHEMA_CACHE: dict[Any, list[tuple[str, Any]]] = {}


def bind(func: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments of an ATen call by name, defaults filled in."""
    spec = _SCHEMA_CACHE.get(func)
    if spec is None:
        spec = [
            (a.name, a.default_value if a.has_default_value() else None)
            for a in func._schema.arguments
        ]
        _SCHEMA_CACHE[func] = spec
    bound = {}
    for i, (name, default) in enumerate(spec):
        bound[name] = args[i] if i < len(args) else kwargs.get(name, default)
    return bound
