"""The NumPy tier and the data it trains on never import torch (checked in a new interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROGRAM = """
import importlib, pkgutil, sys
import cnnlab.scratch
names = [m.name for m in pkgutil.walk_packages(cnnlab.scratch.__path__, "cnnlab.scratch.")]
for name in names:
    importlib.import_module(name)
import cnnlab.data
from cnnlab.data.arrays import load_arrays
from cnnlab.scratch.tiny_cnn import tiny_cnn
data = load_arrays("digits")                  # loading and splitting needs no torch either
tiny_cnn(width=2)(data.x_val[:4])
print(len(names), "torch" in sys.modules, "torchvision" in sys.modules)
"""


def test_importing_scratch_and_its_data_does_not_import_torch() -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True
    )
    count, torch_loaded, torchvision_loaded = result.stdout.split()
    assert int(count) >= 10  # every submodule was imported
    assert torch_loaded == "False"
    assert torchvision_loaded == "False"
