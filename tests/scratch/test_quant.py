"""scratch.quant against PyTorch: the observers' qparams and the quantised integers, exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchao.quantization.pt2e.observer import MinMaxObserver, PerChannelMinMaxObserver

from cnnlab.scratch import quant

# torch's quantized tensors are deprecated as a runtime type; they remain the reference here.
pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")

TORCH_DTYPES = {"int8": torch.qint8, "uint8": torch.quint8}
SCHEMES = {
    (False, False): torch.per_tensor_affine,
    (True, False): torch.per_tensor_symmetric,
    (False, True): torch.per_channel_affine,
    (True, True): torch.per_channel_symmetric,
}


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "normal": rng.standard_normal((6, 5, 3, 3)).astype(np.float32),
        "positive": rng.uniform(0.5, 3.0, (4, 7)).astype(np.float32),
        "negative": -rng.uniform(0.1, 2.0, (3, 8)).astype(np.float32),
        "wide": (rng.standard_normal((5, 16)) * 1e3).astype(np.float32),
        "tiny": (rng.standard_normal((5, 16)) * 1e-6).astype(np.float32),
        "all-equal": np.full((4, 6), 0.7, np.float32),
        "all-zero": np.zeros((3, 5), np.float32),
        "one-zero-channel": np.concatenate(
            [np.zeros((1, 6), np.float32), rng.standard_normal((3, 6)).astype(np.float32)]
        ),
    }


def _observer(symmetric: bool, per_channel: bool, dtype: str) -> torch.nn.Module:
    qscheme = SCHEMES[(symmetric, per_channel)]
    if per_channel:
        return PerChannelMinMaxObserver(ch_axis=0, dtype=TORCH_DTYPES[dtype], qscheme=qscheme)
    return MinMaxObserver(dtype=TORCH_DTYPES[dtype], qscheme=qscheme)


CASES = [
    pytest.param(
        name,
        sym,
        pc,
        dt,
        id=f"{name}-{'sym' if sym else 'affine'}-{'channel' if pc else 'tensor'}-{dt}",
    )
    for name in _tensors()
    for sym in (True, False)
    for pc in (False, True)
    for dt in ("int8", "uint8")
]


@pytest.mark.parametrize(("name", "symmetric", "per_channel", "dtype"), CASES)
def test_qparams_and_integers_equal_torch(
    name: str, symmetric: bool, per_channel: bool, dtype: str
) -> None:
    x = _tensors()[name]
    axis = 0 if per_channel else None
    ours = quant.choose_qparams(x, symmetric=symmetric, per_channel_axis=axis, dtype=dtype)
    observer = _observer(symmetric, per_channel, dtype)
    xt = torch.from_numpy(x)
    observer(xt)
    scale, zero_point = observer.calculate_qparams()
    np.testing.assert_array_equal(ours.scale.reshape(-1), scale.numpy())
    np.testing.assert_array_equal(ours.zero_point.reshape(-1), zero_point.numpy())

    q = quant.quantize(x, ours.scale, ours.zero_point, dtype, axis=axis)
    if per_channel:
        ref = torch.quantize_per_channel(xt, scale.double(), zero_point, 0, TORCH_DTYPES[dtype])
    else:
        ref = torch.quantize_per_tensor(xt, float(scale), int(zero_point), TORCH_DTYPES[dtype])
    assert q.dtype == {"int8": np.int8, "uint8": np.uint8}[dtype]
    np.testing.assert_array_equal(q, ref.int_repr().numpy())
    back = quant.dequantize(q, ours.scale, ours.zero_point, axis=axis)
    np.testing.assert_array_equal(back, ref.dequantize().numpy())

    # The rounding error is at most half a step (min-max qparams never clip), up to float32
    # rounding of x * (1/scale): a few ulps of the largest |x|.
    step = ours.scale if axis is None else ours.scale.reshape(-1, *[1] * (x.ndim - 1))
    error = np.abs(back.astype(np.float64) - x)
    ulps = 4 * np.finfo(np.float32).eps * float(np.abs(x).max())
    assert (error <= step.astype(np.float64) / 2 + ulps).all()


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_ties_round_half_to_even_as_torch(dtype: str) -> None:
    scale = np.float32(0.25)  # exact in binary: x * (1/scale) lands exactly on .5
    zero_point = 3
    x = (np.arange(-20, 21, dtype=np.float32) + 0.5) * scale
    q = quant.quantize(x, scale, zero_point, dtype)
    ref = torch.quantize_per_tensor(torch.from_numpy(x), 0.25, zero_point, TORCH_DTYPES[dtype])
    np.testing.assert_array_equal(q, ref.int_repr().numpy())
    # 0.5 -> 0, 1.5 -> 2, 2.5 -> 2: half to even, before the zero point is added
    expected = np.rint(np.arange(-20, 21) + 0.5).astype(np.int64) + zero_point
    lo, hi = quant.DTYPES[dtype][:2]
    np.testing.assert_array_equal(q.astype(np.int64), np.clip(expected, lo, hi))


def test_random_tensors_per_channel_axes_equal_torch() -> None:
    rng = np.random.default_rng(1)
    for trial in range(20):
        shape = tuple(rng.integers(1, 6, size=rng.integers(1, 5)))
        x = (rng.standard_normal(shape) * rng.uniform(1e-3, 1e2)).astype(np.float32)
        axis = int(rng.integers(0, len(shape)))
        qp = quant.choose_qparams(x, symmetric=bool(trial % 2), per_channel_axis=axis)
        ref = torch.quantize_per_channel(
            torch.from_numpy(x),
            torch.from_numpy(qp.scale.astype(np.float64)),
            torch.from_numpy(qp.zero_point),
            axis,
            torch.qint8,
        )
        q = quant.quantize(x, qp.scale, qp.zero_point, axis=axis)
        np.testing.assert_array_equal(q, ref.int_repr().numpy(), err_msg=f"{shape} axis {axis}")


def test_fake_quantize_takes_few_distinct_values() -> None:
    x = np.random.default_rng(2).standard_normal(10_000).astype(np.float32)
    qp = quant.choose_qparams(x, symmetric=True)
    assert len(np.unique(quant.fake_quantize(x, qp))) <= 256


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: quant.choose_qparams(np.ones(3), symmetric=True, dtype="int4"), "dtype"),
        (lambda: quant.choose_qparams(np.array([]), symmetric=True), "empty"),
        (lambda: quant.choose_qparams(np.array([np.inf]), symmetric=True), "finite"),
        (lambda: quant.choose_qparams(np.ones((2, 2)), symmetric=True, per_channel_axis=2), "axis"),
        (lambda: quant.quantize(np.ones(3), 0.0, 0), "scale"),
        (lambda: quant.quantize(np.ones(3), 0.1, 300), "zero_point"),
        (lambda: quant.quantize(np.ones((2, 3)), np.ones(2), np.zeros(2, int)), "axis"),
        (lambda: quant.dequantize(np.ones(3), 0.1, 0), "integers"),
    ],
    ids=["dtype", "empty", "inf", "axis-range", "scale-0", "zp-range", "no-axis", "float-q"],
)
def test_bad_input_is_a_value_error(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
