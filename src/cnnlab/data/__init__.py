"""Datasets: in-memory digits (digits, mnist5k), digit scenes, folders and files the user has;
preprocessing and augmentation (:mod:`cnnlab.data.transforms`).

Importing this package imports nothing heavy; each name loads its module on first use. So
``cnnlab.data.arrays`` (NumPy only: the digits, mnist5k and the one train/validation split)
serves the NumPy tier without torch, while ``load_dataset`` and ``DatasetBundle`` bring in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ARRAY_SOURCES": "cnnlab.data.arrays",
    "ArraySplit": "cnnlab.data.arrays",
    "RawSplit": "cnnlab.data.arrays",
    "load_arrays": "cnnlab.data.arrays",
    "load_raw": "cnnlab.data.arrays",
    "stratified_split": "cnnlab.data.arrays",
    "TASKS": "cnnlab.data.bundle",
    "DatasetBundle": "cnnlab.data.bundle",
    "LoadOptions": "cnnlab.data.bundle",
    "DATASET_KINDS": "cnnlab.data.datasets",
    "dataset_kind": "cnnlab.data.datasets",
    "load_dataset": "cnnlab.data.datasets",
    "parse_dataset_spec": "cnnlab.data.datasets",
    "detection_collate": "cnnlab.data.samples",
    "Scenes": "cnnlab.data.scenes",
    "make_scenes": "cnnlab.data.scenes",
}

__all__ = [
    "ARRAY_SOURCES",
    "DATASET_KINDS",
    "TASKS",
    "ArraySplit",
    "DatasetBundle",
    "LoadOptions",
    "RawSplit",
    "Scenes",
    "dataset_kind",
    "detection_collate",
    "load_arrays",
    "load_dataset",
    "load_raw",
    "make_scenes",
    "parse_dataset_spec",
    "stratified_split",
]

if TYPE_CHECKING:
    from cnnlab.data.arrays import (
        ARRAY_SOURCES,
        ArraySplit,
        RawSplit,
        load_arrays,
        load_raw,
        stratified_split,
    )
    from cnnlab.data.bundle import TASKS, DatasetBundle, LoadOptions
    from cnnlab.data.datasets import (
        DATASET_KINDS,
        dataset_kind,
        load_dataset,
        parse_dataset_spec,
    )
    from cnnlab.data.samples import detection_collate
    from cnnlab.data.scenes import Scenes, make_scenes


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cnnlab.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
