"""Sequential, Residual (a ResNet basic block), state dicts and shared parameters vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab import scratch


def _basic_block_scratch(c_in: int, c_out: int, stride: int) -> scratch.Module:
    shortcut = None
    if stride != 1 or c_in != c_out:
        shortcut = scratch.Sequential(
            scratch.Conv2d(c_in, c_out, 1, stride=stride, bias=False), scratch.BatchNorm2d(c_out)
        )
    block = scratch.Sequential(
        scratch.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        scratch.BatchNorm2d(c_out),
        scratch.ReLU(),
        scratch.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        scratch.BatchNorm2d(c_out),
    )
    return scratch.Sequential(scratch.Residual(block, shortcut), scratch.ReLU())


class _TorchResidual(torch.nn.Module):
    def __init__(self, block: torch.nn.Module, shortcut: torch.nn.Module | None) -> None:
        super().__init__()
        self.block, self.shortcut = block, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x) + (x if self.shortcut is None else self.shortcut(x))


def _basic_block_torch(c_in: int, c_out: int, stride: int) -> torch.nn.Module:
    nn = torch.nn
    shortcut = None
    if stride != 1 or c_in != c_out:
        shortcut = nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
        )
    block = nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
        nn.BatchNorm2d(c_out),
    )
    return nn.Sequential(_TorchResidual(block, shortcut), nn.ReLU())


@pytest.mark.parametrize(
    ("c_in", "c_out", "stride"), [(4, 4, 1), (3, 6, 2)], ids=["identity", "projection-s2"]
)
def test_resnet_basic_block_matches_torch(torch_twin, close, c_in, c_out, stride) -> None:
    ours, ref = _basic_block_scratch(c_in, c_out, stride), _basic_block_torch(c_in, c_out, stride)
    assert list(ours.state_dict()) == list(ref.state_dict())  # torch's names and order
    rng = np.random.default_rng(0)
    torch_twin(ours, ref, rng.standard_normal((2, c_in, 6, 6)))
    torch_twin(ours, ref, rng.standard_normal((2, c_in, 6, 6)), seed=1, load=False)
    for name, value in ref.state_dict().items():
        close(ours.state_dict()[name], value, name)
    ours.eval()
    ref.eval()
    torch_twin(ours, ref, rng.standard_normal((2, c_in, 6, 6)), seed=2, load=False)


def test_torch_weights_load_into_a_scratch_cnn(torch_twin) -> None:
    nn = torch.nn
    ref = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(16, 3),
    ).double()
    ours = scratch.Sequential(
        scratch.Conv2d(1, 4, 3, padding=1),
        scratch.BatchNorm2d(4),
        scratch.ReLU(),
        scratch.MaxPool2d(2),
        scratch.Flatten(),
        scratch.Dropout(0.5),
        scratch.Linear(16, 3),
    )
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    ours.eval()
    ref.eval()
    torch_twin(ours, ref, np.random.default_rng(0).standard_normal((3, 1, 4, 4)), load=False)
    assert not any(m.training for m in ours.modules())


def test_shared_parameter_accumulates_both_gradients(close) -> None:
    # one weight used by two layers (weight tying): .grad must hold the sum, as in torch
    a, b = scratch.Linear(3, 3, bias=False, rng=0), scratch.Linear(3, 3, bias=False, rng=1)
    b.weight = a.weight
    model = scratch.Sequential(a, scratch.Tanh(), b)
    assert len(model.parameters()) == 1
    x = np.random.default_rng(0).standard_normal((4, 3))
    model.backward(np.ones_like(model(x)))
    w = torch.tensor(a.weight.data, requires_grad=True)
    (torch.tanh(torch.from_numpy(x) @ w.T) @ w.T).sum().backward()
    close(a.weight.grad, w.grad)


def test_state_dict_round_trip_and_errors() -> None:
    a = scratch.Sequential(scratch.Conv2d(1, 2, 3, rng=0), scratch.BatchNorm2d(2))
    b = scratch.Sequential(scratch.Conv2d(1, 2, 3, rng=1), scratch.BatchNorm2d(2))
    a[1].running_mean[:] = 5.0
    b.load_state_dict(a.state_dict())
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[key], value)
    with pytest.raises(ValueError, match=r"missing keys \['1.num_batches_tracked'\]"):
        b.load_state_dict({k: v for k, v in a.state_dict().items() if "num_batches" not in k})
    with pytest.raises(ValueError, match="has shape"):
        b.load_state_dict({**a.state_dict(), "0.weight": np.zeros((2, 1, 2, 2))})
    with pytest.raises(ValueError, match="Sequential takes scratch layers"):
        scratch.Sequential(torch.nn.ReLU())
    with pytest.raises(ValueError, match="does not match shortcut"):
        scratch.Residual(scratch.Conv2d(1, 1, 3))(np.zeros((1, 1, 5, 5)))
