"""One short digits run shared by the compression tests (trained once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from rich.console import Console

from cnnlab.compress import TrainedRun, load_run
from cnnlab.train import TrainConfig, Trainer


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digits_cnn run directory trained for 2 epochs (about 99% validation accuracy)."""
    out = tmp_path_factory.mktemp("compress") / "digits"
    config = TrainConfig(epochs=2, batch_size=64, seed=0, device="cpu", out=str(out))
    Trainer(config, console=Console(quiet=True)).fit()
    return out


@pytest.fixture(scope="session")
def trained(digits_run: Path) -> TrainedRun:
    return load_run(digits_run)


def calibrate_bn(model: torch.nn.Module, x: torch.Tensor) -> torch.nn.Module:
    """Give a randomly initialised model realistic BN statistics (one cumulative pass on ``x``)."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()
