"""Every activation against torch autograd in float64, over wide random inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnlab import scratch

ACTIVATIONS = {
    "sigmoid": (scratch.Sigmoid, torch.nn.Sigmoid, {}),
    "tanh": (scratch.Tanh, torch.nn.Tanh, {}),
    "relu": (scratch.ReLU, torch.nn.ReLU, {}),
    "leaky_relu": (scratch.LeakyReLU, torch.nn.LeakyReLU, {}),
    "leaky_relu-0.2": (scratch.LeakyReLU, torch.nn.LeakyReLU, {"negative_slope": 0.2}),
    "elu": (scratch.ELU, torch.nn.ELU, {}),
    "elu-alpha0.5": (scratch.ELU, torch.nn.ELU, {"alpha": 0.5}),
    "selu": (scratch.SELU, torch.nn.SELU, {}),
    "gelu": (scratch.GELU, torch.nn.GELU, {}),
    "gelu-tanh": (scratch.GELU, torch.nn.GELU, {"approximate": "tanh"}),
    "silu": (scratch.SiLU, torch.nn.SiLU, {}),
    "mish": (scratch.Mish, torch.nn.Mish, {}),
    "softplus": (scratch.Softplus, torch.nn.Softplus, {}),
    "softplus-b2-t5": (scratch.Softplus, torch.nn.Softplus, {"beta": 2.0, "threshold": 5.0}),
    "prelu": (scratch.PReLU, torch.nn.PReLU, {}),
    "prelu-channels": (scratch.PReLU, torch.nn.PReLU, {"num_parameters": 3, "init": 0.1}),
}

inputs = arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.just(3), st.integers(1, 4)),
    elements=st.one_of(
        st.floats(-30, 30, allow_nan=False), st.sampled_from([0.0, -1.0, 1.0, 19.9, 20.1])
    ),
)


@pytest.mark.parametrize(
    ("ours_cls", "ref_cls", "kwargs"), ACTIVATIONS.values(), ids=ACTIVATIONS.keys()
)
@settings(max_examples=30)
@given(x=inputs)
def test_activation_matches_torch(torch_twin, ours_cls, ref_cls, kwargs, x) -> None:
    torch_twin(ours_cls(**kwargs), ref_cls(**kwargs), x)


def test_sigmoid_and_tanh_saturate_but_relu_does_not() -> None:
    # the notes' vanishing-gradient argument, with the derivative bounds
    x = np.linspace(-10, 10, 2001)
    for layer, bound in ((scratch.Sigmoid(), 0.25), (scratch.Tanh(), 1.0)):
        layer(x)
        grad = layer.backward(np.ones_like(x))
        assert grad.max() == pytest.approx(bound)
        assert grad[0] < 1e-4 and grad[-1] < 1e-4
    relu = scratch.ReLU()
    relu(x)
    np.testing.assert_array_equal(relu.backward(np.ones_like(x))[x > 0], 1.0)


def test_bad_configurations_raise() -> None:
    with pytest.raises(ValueError, match=r"approximate must be one of .*; did you mean tanh"):
        scratch.GELU("tanhh")
    with pytest.raises(ValueError, match="expects that many channels"):
        scratch.PReLU(3)(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="beta must be a finite number > 0, got 0"):
        scratch.Softplus(beta=0)
