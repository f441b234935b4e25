"""Cross-entropy, hinge and squared-error losses against torch autograd in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab import scratch


def _compare(close, ours, ref, logits: np.ndarray, target: np.ndarray) -> None:
    zt = torch.tensor(logits, requires_grad=True)
    loss_t = ref(zt, torch.from_numpy(target))
    loss_t.backward()
    loss = ours(logits, target)
    assert isinstance(loss, float)
    close(np.array(loss), loss_t, "loss")
    close(ours.backward(), zt.grad, "dlogits")


@settings(max_examples=40)
@given(
    st.integers(1, 6),
    st.integers(2, 6),
    st.floats(0.0, 1.0),
    st.sampled_from(["mean", "sum"]),
    st.floats(0.1, 100.0),
    st.integers(0, 2**16),
)
def test_cross_entropy_matches_torch(close, n, c, smoothing, reduction, scale, seed) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * scale
    target = rng.integers(0, c, n)
    _compare(
        close,
        scratch.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing),
        torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing),
        logits,
        target,
    )


def test_cross_entropy_is_stable_for_huge_logits(close) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [5e3, 5e3 + 1.0, -3e3]])
    target = np.array([1, 0])
    ours = scratch.CrossEntropyLoss()
    loss = ours(logits, target)
    assert np.isfinite(loss) and np.all(np.isfinite(ours.backward()))
    _compare(close, scratch.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, target)


@settings(max_examples=40)
@given(
    st.integers(1, 6),
    st.integers(2, 6),
    st.sampled_from([1, 2]),
    st.floats(0.0, 3.0),
    st.sampled_from(["mean", "sum"]),
    st.integers(0, 2**16),
)
def test_multi_margin_matches_torch(close, n, c, p, margin, reduction, seed) -> None:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c))
    target = rng.integers(0, c, n)
    _compare(
        close,
        scratch.MultiMarginLoss(p=p, margin=margin, reduction=reduction),
        torch.nn.MultiMarginLoss(p=p, margin=margin, reduction=reduction),
        logits,
        target,
    )


@settings(max_examples=30)
@given(st.integers(1, 4), st.integers(1, 5), st.sampled_from(["mean", "sum"]), st.integers(0, 99))
def test_mse_matches_torch(close, n, d, reduction, seed) -> None:
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((n, d)), rng.standard_normal((n, d))
    _compare(close, scratch.MSELoss(reduction), torch.nn.MSELoss(reduction=reduction), x, t)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: scratch.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3])), r"in \[0, 3\)"),
        (lambda: scratch.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 1.0])), "integer"),
        (lambda: scratch.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0])), "shape"),
        (lambda: scratch.CrossEntropyLoss()(np.zeros(3), np.array([0])), r"\(N, C\)"),
        (lambda: scratch.CrossEntropyLoss(label_smoothing=1.5), "label_smoothing"),
        (lambda: scratch.CrossEntropyLoss(reduction="meen"), "did you mean mean"),
        (lambda: scratch.MultiMarginLoss(p=3), "p must be one of \\[1, 2\\], got 3"),
        (lambda: scratch.MSELoss()(np.zeros(3), np.zeros(4)), "same shape"),
        (lambda: scratch.MSELoss().backward(), "before forward"),
    ],
    ids=[
        "class-range",
        "float-target",
        "target-shape",
        "logits-ndim",
        "smoothing",
        "reduction",
        "margin-p",
        "mse-shape",
        "backward-first",
    ],
)
def test_bad_input_raises(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("MSELoss", np.zeros((0, 3))),
        ("CrossEntropyLoss", np.zeros((0,), dtype=np.int64)),
    ],
    ids=["mse", "cross_entropy"],
)
def test_empty_batch_mean_is_nan_as_torch(name: str, target: np.ndarray) -> None:
    """A mean over no samples is NaN in torch; ours says the same instead of dividing by zero."""
    prediction = np.zeros((0, 3))
    ours = getattr(scratch, name)()
    loss = ours(prediction, target)
    ref = getattr(torch.nn, name)()(torch.from_numpy(prediction), torch.from_numpy(target))
    assert np.isnan(loss) and torch.isnan(ref)
    assert ours.backward().shape == prediction.shape
