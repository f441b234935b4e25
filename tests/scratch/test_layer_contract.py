"""The layer contract every scratch layer keeps: a gradient of the wrong shape is refused by name,
and an empty batch gives the empty output torch gives (not an internal NumPy error)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import numpy as np
import pytest
import torch

from cnnlab import scratch


def _conv() -> scratch.Module:
    return scratch.Conv2d(3, 8, 3, padding=1, rng=0)


# Every layer of cnnlab.scratch with a backward: how to build it and an input it takes.
LAYERS: dict[str, tuple[Callable[[], scratch.Module], tuple[int, ...]]] = {
    "Conv2d": (_conv, (2, 3, 5, 5)),
    "ConvTranspose2d": (lambda: scratch.ConvTranspose2d(3, 4, 3, stride=2, rng=0), (2, 3, 4, 4)),
    "Linear": (lambda: scratch.Linear(5, 3, rng=0), (4, 5)),
    "Flatten": (scratch.Flatten, (2, 3, 4, 4)),
    "MaxPool2d": (lambda: scratch.MaxPool2d(2), (2, 3, 4, 4)),
    "AvgPool2d": (lambda: scratch.AvgPool2d(3, 1, 1), (2, 3, 4, 4)),
    "AdaptiveAvgPool2d": (lambda: scratch.AdaptiveAvgPool2d(2), (2, 3, 5, 5)),
    "BatchNorm1d": (lambda: scratch.BatchNorm1d(3), (4, 3)),
    "BatchNorm2d": (lambda: scratch.BatchNorm2d(3), (2, 3, 4, 4)),
    "LayerNorm": (lambda: scratch.LayerNorm(4), (2, 3, 4)),
    "GroupNorm": (lambda: scratch.GroupNorm(1, 3), (2, 3, 4, 4)),
    "InstanceNorm2d": (lambda: scratch.InstanceNorm2d(3), (2, 3, 4, 4)),
    "Dropout": (lambda: scratch.Dropout(0.5, rng=0), (2, 3)),
    "ReLU": (scratch.ReLU, (2, 3)),
    "LeakyReLU": (scratch.LeakyReLU, (2, 3)),
    "PReLU": (lambda: scratch.PReLU(3), (2, 3, 4)),
    "ELU": (scratch.ELU, (2, 3)),
    "SELU": (scratch.SELU, (2, 3)),
    "GELU": (scratch.GELU, (2, 3)),
    "SiLU": (scratch.SiLU, (2, 3)),
    "Mish": (scratch.Mish, (2, 3)),
    "Softplus": (scratch.Softplus, (2, 3)),
    "Sigmoid": (scratch.Sigmoid, (2, 3)),
    "Tanh": (scratch.Tanh, (2, 3)),
    "Sequential": (lambda: scratch.Sequential(_conv(), scratch.ReLU()), (2, 3, 5, 5)),
    "Residual": (lambda: scratch.Residual(scratch.Conv2d(3, 3, 3, padding=1, rng=0)), (2, 3, 5, 5)),
}


def test_every_layer_with_a_backward_is_listed() -> None:
    layers = {
        name
        for name in scratch.__all__
        if inspect.isclass(obj := getattr(scratch, name))
        and issubclass(obj, scratch.Module)
        and obj is not scratch.Module
    }
    assert layers == set(LAYERS)


@pytest.mark.parametrize("name", LAYERS)
def test_backward_refuses_a_gradient_of_the_wrong_shape(name: str) -> None:
    make, shape = LAYERS[name]
    layer = make()
    y = layer(np.random.default_rng(0).standard_normal(shape))
    wrong = np.ones((*y.shape[:-1], y.shape[-1] + 1))
    expected = re.escape(str(tuple(y.shape)))
    with pytest.raises(ValueError, match=rf"{name}\.backward expects .*{expected}.*got"):
        layer.backward(wrong)
    with pytest.raises(ValueError, match=rf"{name}\.backward expects"):
        layer.backward(np.ones(y.shape).tolist())
    layer.backward(np.ones(y.shape))  # the right shape still works after the refusals


def test_wrong_gradient_of_the_report_names_the_shape() -> None:
    # The trial's case: Conv2d(3, 8, 3, padding=1) on (2, 3, 5, 5) gives (2, 8, 5, 5).
    conv = _conv()
    conv(np.ones((2, 3, 5, 5)))
    with pytest.raises(ValueError) as err:
        conv.backward(np.ones((2, 8, 4, 4)))
    assert str(err.value) == (
        "Conv2d.backward expects a gradient of shape (2, 8, 5, 5) (the shape of its last "
        "output), got (2, 8, 4, 4)"
    )


EMPTY = {
    "Conv2d": (_conv, lambda: torch.nn.Conv2d(3, 8, 3, padding=1), (0, 3, 5, 5)),
    "Conv2d-groups-stride": (
        lambda: scratch.Conv2d(4, 6, 3, stride=2, groups=2, rng=0),
        lambda: torch.nn.Conv2d(4, 6, 3, stride=2, groups=2),
        (0, 4, 7, 7),
    ),
    "ConvTranspose2d": (
        lambda: scratch.ConvTranspose2d(3, 4, 3, stride=2, rng=0),
        lambda: torch.nn.ConvTranspose2d(3, 4, 3, stride=2),
        (0, 3, 4, 4),
    ),
    "MaxPool2d": (lambda: scratch.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (0, 3, 4, 4)),
    "AvgPool2d": (
        lambda: scratch.AvgPool2d(3, 1, 1),
        lambda: torch.nn.AvgPool2d(3, 1, 1),
        (0, 3, 4, 4),
    ),
    "AdaptiveAvgPool2d": (
        lambda: scratch.AdaptiveAvgPool2d(2),
        lambda: torch.nn.AdaptiveAvgPool2d(2),
        (0, 3, 5, 5),
    ),
    "Linear": (lambda: scratch.Linear(5, 3, rng=0), lambda: torch.nn.Linear(5, 3), (0, 5)),
}


@pytest.mark.parametrize("name", EMPTY)
def test_empty_batch_gives_the_empty_output_like_torch(torch_twin, name: str) -> None:
    make_ours, make_theirs, shape = EMPTY[name]
    y, dx = torch_twin(make_ours(), make_theirs(), np.zeros(shape))
    assert y.shape[0] == 0 and dx.shape == shape
