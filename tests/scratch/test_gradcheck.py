"""gradcheck: passes on correct layers, fails on a layer with a wrong backward."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab import scratch

LAYERS = {
    "conv-s2-d2-g2": lambda: scratch.Conv2d(
        4, 2, 3, stride=2, padding=1, dilation=2, groups=2, rng=0
    ),
    "conv-transpose": lambda: scratch.ConvTranspose2d(4, 3, 3, stride=2, output_padding=1, rng=0),
    "bn2d-train": lambda: scratch.BatchNorm2d(4),
    "group-norm": lambda: scratch.GroupNorm(2, 4),
    "max-pool": lambda: scratch.MaxPool2d(2, padding=1),
    "gelu": lambda: scratch.GELU(),
    "residual": lambda: scratch.Residual(
        scratch.Sequential(scratch.Conv2d(4, 4, 3, padding=1, rng=1), scratch.Tanh())
    ),
}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_gradcheck_passes_on_correct_layers(make) -> None:
    layer = make()
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5))
    state = layer.state_dict()
    report = scratch.gradcheck(layer, x)
    assert report.ok, report.describe()
    assert set(report.max_abs_error) == {"input"} | {name for name, _ in layer.named_parameters()}
    for key, value in state.items():  # running statistics restored
        np.testing.assert_array_equal(layer.state_dict()[key], value)


class _WrongTanh(scratch.Tanh):
    def backward(self, dout: np.ndarray) -> np.ndarray:
        _, y = self._take_cache(dout)
        return dout * (1.0 - y)  # wrong: should be 1 - y^2


def test_gradcheck_detects_a_wrong_backward() -> None:
    report = scratch.gradcheck(_WrongTanh(), np.random.default_rng(0).standard_normal((3, 4)))
    assert not report.ok
    assert report.max_abs_error["input"] > 0.1
    assert "FAILED" in report.describe()


def test_gradcheck_rejects_float32_and_random_layers() -> None:
    with pytest.raises(ValueError, match="float64"):
        scratch.gradcheck(scratch.ReLU(), np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="not deterministic"):
        scratch.gradcheck(scratch.Dropout(0.5, rng=0), np.ones((4, 4)))
    assert scratch.gradcheck(scratch.Dropout(0.5).eval(), np.ones((2, 2))).ok
