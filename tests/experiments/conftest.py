"""Each experiment's quick run happens once per test module (``EXPERIMENT = "name"`` there)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from cnnlab.experiments import ExperimentResult, run


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The tensors here are small: one torch thread, as the experiment runner uses (two threads
    fighting over shared cores are slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def quick(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    name = request.module.EXPERIMENT
    return run(name, quick=True, seed=0, out=tmp_path_factory.mktemp(name))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def read_csv():
    """``read_csv(path)``: the rows of a CSV file as dicts of strings."""
    return _read_csv


def failed(result: ExperimentResult) -> list[str]:
    """The failing checks of a result, for assertion messages."""
    return [f"{c.claim}: {c.measured} vs {c.expected}" for c in result.checks if not c.passed]


@pytest.fixture
def failing():
    """``failing(result)``: its failing checks, for the assertion message."""
    return failed
