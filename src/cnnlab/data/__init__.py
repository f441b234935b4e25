"""Datasets: the in-memory digits first, then folders and torchvision's files the user has.

Importing this package imports nothing heavy; each name loads its module on first use. So
``cnnlab.data.arrays`` (NumPy only: the digits and the one train/validation split) serves the
NumPy tier without torch, while ``load_dataset`` and ``DatasetBundle`` bring in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ARRAY_SOURCES": "cnnlab.data.arrays",
    "ArraySplit": "cnnlab.data.arrays",
    "load_arrays": "cnnlab.data.arrays",
    "stratified_split": "cnnlab.data.arrays",
    "DatasetBundle": "cnnlab.data.bundle",
    "LoadOptions": "cnnlab.data.bundle",
    "DATASET_KINDS": "cnnlab.data.datasets",
    "load_dataset": "cnnlab.data.datasets",
    "parse_dataset_spec": "cnnlab.data.datasets",
}

__all__ = [
    "ARRAY_SOURCES",
    "DATASET_KINDS",
    "ArraySplit",
    "DatasetBundle",
    "LoadOptions",
    "load_arrays",
    "load_dataset",
    "parse_dataset_spec",
    "stratified_split",
]

if TYPE_CHECKING:
    from cnnlab.data.arrays import ARRAY_SOURCES, ArraySplit, load_arrays, stratified_split
    from cnnlab.data.bundle import DatasetBundle, LoadOptions
    from cnnlab.data.datasets import DATASET_KINDS, load_dataset, parse_dataset_spec


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cnnlab.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
